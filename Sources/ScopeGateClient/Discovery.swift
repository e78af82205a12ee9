import Foundation
import ScopeGate
import ScopeGateTokens

/// The resource's Protected Resource Metadata (RFC 9728), as far as a client uses it.
///
/// ```swift
/// let (resource, server) = try await Discovery(fetcher: URLSessionFetcher()).discover(resource: url)
/// print(resource.scopesSupported, server.tokenEndpoint)
/// ```
public struct ResourceMetadata: Sendable, Hashable {
    public var resource: String
    public var authorizationServers: [String]
    public var scopesSupported: [String]
    /// The public requirements document (`io.scopegate/requirements_uri`), when the resource publishes one.
    public var requirementsURL: URL?

    /// Reads a metadata document.
    public init(json: JSONValue) throws(ClientError) {
        guard let resource = json[member: "resource"]?.string else {
            throw ClientError(.badDocument, "the protected resource metadata has no `resource`")
        }
        self.resource = resource
        authorizationServers = json[member: "authorization_servers"]?.strings ?? []
        scopesSupported = json[member: "scopes_supported"]?.strings ?? []
        requirementsURL = json[member: "io.scopegate/requirements_uri"]?.string.flatMap(URL.init(string:))
    }
}

/// An authorization server's metadata (RFC 8414, or OIDC discovery), as far as a client uses it.
///
/// ```swift
/// let server = try await Discovery(fetcher: fetcher).authorizationServer(issuer: "https://auth.example.com")
/// server.supportsS256   // true when `code_challenge_methods_supported` lists S256
/// ```
public struct AuthorizationServerMetadata: Sendable, Hashable {
    public var issuer: String
    public var tokenEndpoint: URL
    public var authorizationEndpoint: URL?
    public var codeChallengeMethodsSupported: [String]
    public var grantTypesSupported: [String]

    /// Reads a metadata document; its `issuer` must be `expectedIssuer` (RFC 8414 §3.3).
    public init(json: JSONValue, expectedIssuer: String) throws(ClientError) {
        guard let issuer = json[member: "issuer"]?.string else {
            throw ClientError(.badDocument, "the authorization server metadata has no `issuer`")
        }
        guard issuer == expectedIssuer else {
            throw ClientError(
                .discovery, "the metadata of `\(expectedIssuer)` names another issuer, `\(issuer)`")
        }
        guard let token = json[member: "token_endpoint"]?.string.flatMap(URL.init(string:)) else {
            throw ClientError(.badDocument, "the authorization server metadata has no `token_endpoint`")
        }
        self.issuer = issuer
        tokenEndpoint = token
        authorizationEndpoint = json[member: "authorization_endpoint"]?.string.flatMap(URL.init(string:))
        codeChallengeMethodsSupported = json[member: "code_challenge_methods_supported"]?.strings ?? []
        grantTypesSupported = json[member: "grant_types_supported"]?.strings ?? ["authorization_code", "implicit"]
    }

    /// Whether the server says it supports PKCE with S256 (RFC 8414 `code_challenge_methods_supported`).
    public var supportsS256: Bool { codeChallengeMethodsSupported.contains("S256") }
}

/// Discovery: an unauthenticated request to the resource answers 401 with `resource_metadata` (RFC 9728 §5.1),
/// which leads to the Protected Resource Metadata, whose first authorization server leads to its metadata
/// (RFC 8414 path form, then OIDC discovery).
///
/// ```swift
/// let discovery = Discovery(fetcher: URLSessionFetcher(timeout: 10))
/// let (resource, server) = try await discovery.discover(resource: URL(string: "https://mcp.example.com/mcp")!)
/// ```
public struct Discovery: Sendable {
    public let fetcher: any HTTPFetcher

    public init(fetcher: any HTTPFetcher) { self.fetcher = fetcher }

    /// The resource's metadata and its (first) authorization server's metadata.
    public func discover(resource: URL) async throws(ClientError) -> (ResourceMetadata, AuthorizationServerMetadata) {
        let metadata = try await resourceMetadata(resource: resource)
        guard let issuer = metadata.authorizationServers.first else {
            throw ClientError(.discovery, "the protected resource metadata lists no `authorization_servers`")
        }
        return (metadata, try await authorizationServer(issuer: issuer))
    }

    /// The Protected Resource Metadata: from the 401 challenge's `resource_metadata`, else the well-known path
    /// form of the resource URL.
    public func resourceMetadata(resource: URL) async throws(ClientError) -> ResourceMetadata {
        let probe = try await fetcher.send(
            "POST", resource,
            headers: ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"],
            body: Array(#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.utf8))
        var url = Self.wellKnown("oauth-protected-resource", for: resource)
        if probe.status == 401, let header = probe.value(forHeader: "WWW-Authenticate"),
            let link = WWWAuthenticate(header)?.resourceMetadata, let linked = URL(string: link)
        {
            url = linked
        }
        guard let url else { throw ClientError(.discovery, "`\(resource.absoluteString)` is not an absolute URL") }
        let answer = try await fetcher.send("GET", url, headers: ["Accept": "application/json"])
        guard answer.status == 200 else {
            throw ClientError(.discovery, "GET \(url.absoluteString) answered \(answer.status)")
        }
        return try ResourceMetadata(json: ClientJSON.object(answer.body, what: "the protected resource metadata"))
    }

    /// An authorization server's metadata: `/.well-known/oauth-authorization-server` (RFC 8414, path form), then
    /// `<issuer>/.well-known/openid-configuration` (OIDC discovery).
    public func authorizationServer(issuer: String) async throws(ClientError) -> AuthorizationServerMetadata {
        guard let base = URL(string: issuer) else { throw ClientError(.discovery, "issuer `\(issuer)` is not a URL") }
        var tried: [String] = []
        let trimmed = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        let candidates = [
            Self.wellKnown("oauth-authorization-server", for: base),
            URL(string: trimmed + "/.well-known/openid-configuration"),
        ].compactMap { $0 }
        for url in candidates {
            let answer = try await fetcher.send("GET", url, headers: ["Accept": "application/json"])
            tried.append("\(url.absoluteString) (\(answer.status))")
            guard answer.status == 200 else { continue }
            return try AuthorizationServerMetadata(
                json: ClientJSON.object(answer.body, what: "the authorization server metadata"),
                expectedIssuer: issuer)
        }
        throw ClientError(
            .discovery, "no metadata for issuer `\(issuer)`; tried " + tried.joined(separator: ", "))
    }

    /// `scheme://host[:port]/.well-known/<name>/path` (RFC 8414 §3.1, RFC 9728 §3.1).
    static func wellKnown(_ name: String, for url: URL) -> URL? {
        guard let scheme = url.scheme, let host = url.host else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return URL(string: "\(scheme)://\(hostPart)\(port)/.well-known/\(name)\(path)")
    }
}
