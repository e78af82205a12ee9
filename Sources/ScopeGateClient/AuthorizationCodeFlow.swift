import Foundation

/// The authorization code grant with PKCE for a native client (RFC 6749 §4.1, RFC 7636, RFC 8252): a fresh S256
/// pair and `state` per attempt, `resource` set (RFC 8707), a loopback redirect on `127.0.0.1` at an ephemeral
/// port, the browser opened (or the URL handed to `present`), and the redirect checked before the code is
/// redeemed: exact redirect URI, `state` once and in time, no `error`.
///
/// ```swift
/// let flow = AuthorizationCodeFlow(oauth: oauth, present: { url in print("open \(url)") })
/// let token = try await flow.run(scopes: plan.scopes, resource: "https://mcp.example.com/mcp")
/// ```
public struct AuthorizationCodeFlow: Sendable {
    public let oauth: OAuthClient
    /// Shows the authorization URL: opens a browser, or prints it (`--no-browser`).
    public let present: @Sendable (URL) async -> Void
    /// How long to wait for the redirect, and how long a `state` stays valid (seconds).
    public var timeout: TimeInterval = 300
    let states: StateBook

    public init(oauth: OAuthClient, present: @escaping @Sendable (URL) async -> Void) {
        self.oauth = oauth
        self.present = present
        self.states = StateBook(lifetime: 300, clock: oauth.clock)
    }

    /// One authorization: listen, present the URL, wait for the redirect, check it, redeem the code.
    public func run(scopes: [String], resource: String) async throws(ClientError) -> IssuedToken {
        let receiver = try LoopbackReceiver()
        defer { receiver.close() }
        let pkce = PKCE()
        let request = try await authorizationURL(
            scopes: scopes, resource: resource, redirectURI: receiver.redirectURI, pkce: pkce)
        await present(request.url)
        let received = try await receiver.receive(timeout: timeout)
        let code = try await redeemable(received, for: request)
        return try await oauth.exchange(
            code: code, verifier: pkce.verifier, redirectURI: request.redirectURI, scopes: scopes, resource: resource)
    }

    /// An authorization request: its URL, and what the redirect is checked against.
    public struct Request: Sendable, Hashable {
        public var url: URL
        public var state: String
        public var redirectURI: String
    }

    /// The authorization URL for `redirectURI` (validated), with a fresh `state` and the PKCE challenge.
    public func authorizationURL(
        scopes: [String], resource: String, redirectURI: String, pkce: PKCE, method: String = PKCE.method
    ) async throws(ClientError) -> Request {
        try PKCE.check(method: method)
        try RedirectURI.validate(redirectURI)
        guard let endpoint = oauth.server.authorizationEndpoint else {
            throw ClientError(.discovery, "the authorization server publishes no `authorization_endpoint`")
        }
        let state = await states.issue()
        var query = [
            ("response_type", "code"), ("client_id", oauth.registration.clientID), ("redirect_uri", redirectURI),
            ("state", state), ("code_challenge", pkce.challenge), ("code_challenge_method", method),
            ("resource", resource),
        ]
        if !scopes.isEmpty { query.insert(("scope", scopes.joined(separator: " ")), at: 3) }
        let text =
            endpoint.absoluteString + (endpoint.query == nil ? "?" : "&")
            + query.map { ClientJSON.escape($0.0) + "=" + ClientJSON.escape($0.1) }.joined(separator: "&")
        guard let url = URL(string: text) else { throw ClientError(.usage, "cannot build the authorization URL") }
        return Request(url: url, state: state, redirectURI: redirectURI)
    }

    /// The code of a redirect, after the checks: the exact redirect URI, an OAuth `error`, the `state` (once, in
    /// time), a `code`.
    public func redeemable(_ received: String, for request: Request) async throws(ClientError) -> String {
        guard RedirectURI.matches(sent: request.redirectURI, received: received) else {
            throw ClientError(
                .redirectURI,
                "the redirect went to `\(received.split(separator: "?").first ?? "")`, not to the "
                    + "redirect URI sent, `\(request.redirectURI)`; refusing it")
        }
        let parameters = Self.query(of: received)
        if let error = parameters["error"] {
            let detail = parameters["error_description"].map { ": \($0)" } ?? ""
            throw ClientError(.oauth, "the authorization server refused: `\(error)`\(detail)")
        }
        try await states.consume(parameters["state"])
        guard parameters["state"] == request.state else {
            throw ClientError(.state, "the redirect's `state` belongs to another request; refusing it")
        }
        guard let code = parameters["code"], !code.isEmpty else {
            throw ClientError(.oauth, "the redirect carries no `code`")
        }
        return code
    }

    /// The query parameters of a URL (first value of each name, percent-decoded, `+` as space).
    static func query(of url: String) -> [String: String] {
        guard let q = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return [:] }
        var out: [String: String] = [:]
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            let key = decode(kv[0])
            if out[key] == nil { out[key] = kv.count > 1 ? decode(kv[1]) : "" }
        }
        return out
    }
}
