import Foundation
import ScopeGate
import ScopeGateTokens

/// A token from the authorization server.
///
/// ```swift
/// let token = try await oauth.clientCredentials(scopes: plan.scopes, resource: "https://mcp.example.com/mcp")
/// print(token.accessToken, token.scopes, token.expiresAt ?? .distantFuture)
/// ```
public struct IssuedToken: Sendable, Hashable, Codable {
    public var accessToken: String
    public var tokenType: String
    /// The granted scopes: the response's `scope`, or the requested ones when it has none (RFC 6749 §5.1).
    public var scopes: [String]
    public var expiresAt: Date?
    public var refreshToken: String?

    public init(
        accessToken: String, tokenType: String = "Bearer", scopes: [String], expiresAt: Date?, refreshToken: String?
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.refreshToken = refreshToken
    }

    /// Whether the access token is expired at `now`, counting `leeway` seconds early.
    public func isExpired(at now: Date, leeway: TimeInterval = 30) -> Bool {
        expiresAt.map { $0.timeIntervalSince(now) <= leeway } ?? false
    }
}

/// This client's registration at the authorization server.
///
/// ```swift
/// let registration = ClientRegistration(clientID: "mcp-client", clientSecret: ProcessInfo.processInfo.environment["SECRET"])
/// ```
public struct ClientRegistration: Sendable, Hashable {
    public var clientID: String
    /// Nil for a public client (authorization code + PKCE only); sent with HTTP Basic (`client_secret_basic`).
    public var clientSecret: String?
    public init(clientID: String, clientSecret: String? = nil) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}

/// The token endpoint (RFC 6749 §4.1.3, §4.4, §6), with `resource` (RFC 8707) on every request.
///
/// ```swift
/// let oauth = OAuthClient(server: server, registration: registration, fetcher: URLSessionFetcher())
/// let token = try await oauth.clientCredentials(scopes: ["mcp:tools:climate"], resource: resource)
/// ```
public struct OAuthClient: Sendable {
    public let server: AuthorizationServerMetadata
    public let registration: ClientRegistration
    public let fetcher: any HTTPFetcher
    public let clock: @Sendable () -> Date

    public init(
        server: AuthorizationServerMetadata, registration: ClientRegistration, fetcher: any HTTPFetcher,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.server = server
        self.registration = registration
        self.fetcher = fetcher
        self.clock = clock
    }

    /// The client credentials grant (a confidential client).
    public func clientCredentials(scopes: [String], resource: String) async throws(ClientError) -> IssuedToken {
        guard registration.clientSecret != nil else {
            throw ClientError(.usage, "the client credentials grant needs a client secret")
        }
        return try await request(
            [("grant_type", "client_credentials"), ("scope", scopes.joined(separator: " ")), ("resource", resource)],
            requested: scopes)
    }

    /// Redeems an authorization code with its PKCE verifier and the exact redirect URI of the request.
    public func exchange(
        code: String, verifier: String, redirectURI: String, scopes: [String], resource: String
    ) async throws(ClientError) -> IssuedToken {
        try await request(
            [
                ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
                ("code_verifier", verifier), ("resource", resource),
            ], requested: scopes)
    }

    /// A refresh (RFC 6749 §6). The answer's refresh token replaces the old one when the server rotates it;
    /// otherwise the old one is kept, as §6 allows.
    public func refresh(_ token: IssuedToken, resource: String) async throws(ClientError) -> IssuedToken {
        guard let refreshToken = token.refreshToken else {
            throw ClientError(.usage, "the token has no refresh token")
        }
        var fresh = try await request(
            [
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken),
                ("scope", token.scopes.joined(separator: " ")), ("resource", resource),
            ], requested: token.scopes)
        if fresh.refreshToken == nil { fresh.refreshToken = refreshToken }
        return fresh
    }

    func request(_ form: [(String, String)], requested: [String]) async throws(ClientError) -> IssuedToken {
        var pairs = form.filter { !($0.0 == "scope" && $0.1.isEmpty) }
        var headers = ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"]
        if let secret = registration.clientSecret {
            let user = ClientJSON.escape(registration.clientID) + ":" + ClientJSON.escape(secret)
            headers["Authorization"] = "Basic " + Data(user.utf8).base64EncodedString()
        } else {
            pairs.append(("client_id", registration.clientID))
        }
        let issuedAt = clock()
        let answer = try await fetcher.send(
            "POST", server.tokenEndpoint, headers: headers, body: ClientJSON.form(pairs))
        let json = try ClientJSON.object(answer.body, what: "the token response")
        guard answer.status == 200 else {
            let error = json[member: "error"]?.string ?? "HTTP \(answer.status)"
            let detail = json[member: "error_description"]?.string.map { ": \($0)" } ?? ""
            throw ClientError(.oauth, "the token endpoint refused the request: `\(error)`\(detail)")
        }
        guard let access = json[member: "access_token"]?.string, !access.isEmpty else {
            throw ClientError(.badDocument, "the token response has no `access_token`")
        }
        let scope = json[member: "scope"]?.string.map { $0.split(separator: " ").map(String.init) }
        return IssuedToken(
            accessToken: access, tokenType: json[member: "token_type"]?.string ?? "Bearer",
            scopes: (scope ?? requested).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) },
            expiresAt: json[member: "expires_in"]?.int.map { issuedAt.addingTimeInterval(TimeInterval($0)) },
            refreshToken: json[member: "refresh_token"]?.string)
    }
}
