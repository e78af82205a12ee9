import Foundation
import ScopeGate
import ScopeGateMCPClient
import ScopeGateMCPClientHTTP
import ScopeGateTokens

/// The client half in one value: discovery, the least scope set for the tools you name, a token by client
/// credentials or authorization code + PKCE (cached encrypted, refreshed when stale), and requests that step up
/// once per 403 `insufficient_scope`, a bounded number of times.
///
/// ```swift
/// let client = TokenClient(
///     resource: URL(string: "https://mcp.example.com/mcp")!,
///     registration: ClientRegistration(clientID: "mcp-client", clientSecret: secret),
///     grant: .clientCredentials, fetcher: URLSessionFetcher(timeout: 10))
/// let discovered = try await client.discover()
/// let plan = try await client.plan(tools: ["get_forecast", "read_client"], discovered: discovered)
/// var token = try await client.token(scopes: plan.scopes, discovered: discovered)
/// let (answer, held, stepUps) = try await client.send(request, token: token, discovered: discovered)
/// ```
public struct TokenClient: Sendable {
    /// How tokens are obtained.
    public enum Grant: Sendable {
        case clientCredentials
        /// Authorization code + PKCE; `present` opens the browser or prints the URL.
        case authorizationCode(present: @Sendable (URL) async -> Void)
    }

    /// What discovery found.
    public struct Discovered: Sendable, Hashable {
        public var resource: ResourceMetadata
        public var server: AuthorizationServerMetadata
        /// The entries of the public requirements document, when the resource publishes one.
        public var document: [String: JSONValue]?
    }

    public let resource: URL
    public let registration: ClientRegistration
    public let grant: Grant
    public let fetcher: any HTTPFetcher
    public let clock: @Sendable () -> Date
    /// Where tokens are cached; nil: not cached.
    public var store: TokenStore?
    /// The most step-ups one ``send(_:token:discovered:)`` makes.
    public var maxStepUps = 2
    /// Lists the resource's tools with a token (the entries of their `_meta["io.scopegate/requires"]`); the
    /// default speaks MCP over Streamable HTTP.
    public var listTools: @Sendable (URL, String) async throws(ClientError) -> [String: JSONValue] = TokenClient
        .listToolsOverMCP

    public init(
        resource: URL, registration: ClientRegistration, grant: Grant, fetcher: any HTTPFetcher,
        clock: @escaping @Sendable () -> Date = { Date() }, store: TokenStore? = nil
    ) {
        self.resource = resource
        self.registration = registration
        self.grant = grant
        self.fetcher = fetcher
        self.clock = clock
        self.store = store
    }

    /// The resource's and its authorization server's metadata, and the public requirements document if linked.
    public func discover() async throws(ClientError) -> Discovered {
        let (metadata, server) = try await Discovery(fetcher: fetcher).discover(resource: resource)
        var document: [String: JSONValue]?
        if let url = metadata.requirementsURL {
            let answer = try await fetcher.send("GET", url, headers: ["Accept": "application/json"])
            if answer.status == 200 {
                document = ScopePlanner.requirements(
                    fromDocument: try ClientJSON.object(answer.body, what: "the requirements document"))
            }
        }
        return Discovered(resource: metadata, server: server, document: document)
    }

    /// The least set for `tools`: from the public requirements document when there is one; else a token for
    /// `scopes_supported` lists the tools and their published requirements are used; else `scopes_supported`.
    public func plan(tools: [String], discovered: Discovered) async throws(ClientError) -> ScopePlan {
        if let document = discovered.document, !document.isEmpty {
            var plan = try ScopePlanner.plan(
                tools: tools, published: document, scopesSupported: discovered.resource.scopesSupported)
            plan.notes.insert("planned from the public requirements document", at: 0)
            return plan
        }
        let first = try await token(scopes: discovered.resource.scopesSupported, discovered: discovered)
        let listed = try await listTools(resource, first.accessToken)
        var plan = try ScopePlanner.plan(
            tools: tools, published: listed, scopesSupported: discovered.resource.scopesSupported)
        if plan.source == .published {
            plan.notes.insert(
                "planned from `tools/list` with a first token for `scopes_supported`", at: 0)
        }
        return plan
    }

    /// A token for exactly `scopes`: the cached one, a refreshed one, or a new one (cached when there is a store).
    public func token(scopes: [String], discovered: Discovered) async throws(ClientError) -> IssuedToken {
        let oauth = OAuthClient(server: discovered.server, registration: registration, fetcher: fetcher, clock: clock)
        let key = TokenStore.Key(
            issuer: discovered.server.issuer, resource: discovered.resource.resource, scopes: scopes)
        if let store {
            switch try store.lookup(key) {
            case .fresh(let token): return token
            case .stale(let token):
                do {
                    let fresh = try await oauth.refresh(token, resource: discovered.resource.resource)
                    try store.save(fresh, for: key)
                    return fresh
                } catch {
                    store.remove(key)  // a refused refresh token is dead: fall through to a new grant
                }
            case .missing: break
            }
        }
        let token: IssuedToken
        switch grant {
        case .clientCredentials:
            token = try await oauth.clientCredentials(scopes: key.scopes, resource: discovered.resource.resource)
        case .authorizationCode(let present):
            token = try await AuthorizationCodeFlow(oauth: oauth, present: present).run(
                scopes: key.scopes, resource: discovered.resource.resource)
        }
        try store?.save(token, for: key)
        return token
    }

    /// Sends `request` with `token`; on a 403 `insufficient_scope` obtains a token for the union of the held and
    /// challenged scopes and retries, at most ``maxStepUps`` times. Returns the last answer, the token it was
    /// sent with, and the number of step-ups.
    public func send(
        _ request: HTTPRequest, token: IssuedToken, discovered: Discovered
    ) async throws(ClientError) -> (HTTPResponse, IssuedToken, Int) {
        var held = token
        var stepUps = 0
        while true {
            var authorized = request
            authorized.headers["Authorization"] = "Bearer " + held.accessToken
            let answer: HTTPResponse
            do { answer = try await fetcher.fetch(authorized) } catch {
                throw ClientError(.http, "\(request.method) \(request.url.absoluteString) failed: \(error)")
            }
            guard let wider = StepUp.scopes(held: held.scopes, response: answer) else {
                return (answer, held, stepUps)
            }
            guard stepUps < maxStepUps else {
                throw ClientError(
                    .stepUp,
                    "still `insufficient_scope` after \(stepUps) step-ups; the server asks for "
                        + wider.joined(separator: " "))
            }
            stepUps += 1
            held = try await self.token(scopes: wider, discovered: discovered)
        }
    }

    /// `tools/list` over MCP Streamable HTTP with `token`: the published requirement of each listed tool.
    @Sendable public static func listToolsOverMCP(_ url: URL, _ token: String) async throws(ClientError)
        -> [String: JSONValue]
    {
        let result = await Blocking.run { () -> Result<[String: JSONValue], ClientError> in
            let session = MCPSession(transport: HTTPTransport(url: url, token: token))
            defer { session.close() }
            do throws(MCPClientError) {
                _ = try session.initialize()
                var out: [String: JSONValue] = [:]
                for tool in try session.listTools() { if let entry = tool.requirements { out[tool.name] = entry } }
                return .success(out)
            } catch {
                return .failure(
                    ClientError(.http, "listing the tools of `\(url.absoluteString)` failed: \(error.message)"))
            }
        }
        return try result.get()
    }
}
