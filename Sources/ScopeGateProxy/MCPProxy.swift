import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ScopeGate
import ScopeGateAsyncHTTPClient
import ScopeGateOperations
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// An authorizing reverse proxy in front of an MCP server, Streamable HTTP or stdio (``MCPUpstream``): every
/// request to the endpoint is authorized by ``RequestAuthorizer`` (401, 403 and 400 answered here, never
/// forwarded); an allowed one is forwarded without the client's `Authorization` (with the upstream credential
/// instead, when there is one), its session checked against the token's principal (``SessionTable``), and the
/// answer streams back chunk by chunk, list results filtered (JSON or SSE) to what the token may call. Also
/// serves Protected Resource Metadata and, through ``ProxyOperations``, `/healthz`, `/readyz` and `/metrics`;
/// decisions are audited and counted there.
///
/// Served by ``ProxyServer`` (`HTTPServerBuilder.mcpProxy`), a request whose token is cached is answered on its
/// connection's event loop (``authenticateAtOnce``); every other request, and every request when served by
/// ``ProxyResponder`` alone, takes a task. The answer is the same either way.
///
/// ```swift
/// let tokens = TokenAuthenticator(store: store)
/// let proxy = MCPProxy(store: store, configuration: .init(upstream: "http://127.0.0.1:9000/mcp"),
///                      authenticate: tokens.credential, identify: tokens.verified,
///                      authenticateAtOnce: { tokens.verifyAtOnce($0, $1) })
/// let app = Application(responder: ProxyResponder(proxy: proxy), server: .mcpProxy(proxy),
///                       configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public final class MCPProxy: Sendable {
    /// Turns an `Authorization` header into a credential resolved against `policy` (verification, caching).
    public typealias Authenticate = @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> Credential
    /// The verified token of an `Authorization` header, for its principal (sessions) and the token exchange.
    public typealias Identify = @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> VerifiedToken?
    /// ``Authenticate`` when it needs no waiting (no bearer token, or one in the verified-token cache), with the
    /// verified token; nil when the token must be verified first.
    public typealias AuthenticateAtOnce =
        @Sendable (_ authorization: String?, _ policy: CompiledPolicy) -> (
            credential: Credential, token: VerifiedToken?
        )?

    public let store: PolicyStore
    public let configuration: ProxyConfiguration
    let authenticate: Authenticate
    let client: HTTPClient
    let now: @Sendable () -> Date
    let logger: Logger
    let upstream: any MCPUpstream
    /// `upstream` when it is plain HTTP (``answerAtOnce(_:body:on:reply:)`` answers on the event loop), cast once.
    let plainUpstream: HTTP1Upstream?
    let identify: Identify?
    let authenticateAtOnce: AuthenticateAtOnce?
    /// 2025-xx sessions bound to the principal that created them.
    public let sessions: SessionTable
    let exchangers: TokenExchangers
    let downstreamTools = LockedValue<(hash: String, found: Bool)?>(nil)
    /// The authorization settings, with the resource's metadata URL for challenges when the configuration names
    /// a resource and no URL.
    let settings: AuthorizationSettings
    /// The endpoint path of the last policy seen (``ProxyConfiguration/endpoint(for:)`` parses a URL).
    let endpoints = LockedValue<(stamp: UInt64, path: String)?>(nil)
    /// Audit, metrics, readiness and the operations endpoints.
    public let operations: ProxyOperations
    /// The streams held open, bounded globally and per principal.
    public let streams: StreamSlots

    /// - Parameters:
    ///   - client: the client for `https://` upstreams and the readiness probe (default: ``HTTPUpstream/proxyClient``).
    ///   - now: the clock for list `ttlMs` clamping and session idle expiry.
    ///   - identify: the verified token of a request, whose issuer and subject bind sessions and whose
    ///     token is exchanged for `downstream:` tools; without it every token is the same principal.
    ///   - authenticateAtOnce: lets ``ProxyServer`` answer a request whose token is cached on the connection's
    ///     event loop, without a task (``TokenAuthenticator/verifyAtOnce(_:_:)``); nil: every request takes a task.
    ///   - upstream: where requests go (default: ``StdioUpstream`` for `configuration.upstreamCommand`, else
    ///     ``HTTP1Upstream`` for an `http://` `configuration.upstream` and ``HTTPUpstream`` for any other).
    ///   - exchangers: the RFC 8693 exchangers for `downstream:` tools (default: on AsyncHTTPClient, 5 s per request).
    ///   - operations: audit, metrics and the operations endpoints (default: metrics to the process-wide
    ///     backend, no audit, no `/metrics`).
    public init(
        store: PolicyStore, configuration: ProxyConfiguration, authenticate: @escaping Authenticate,
        client: HTTPClient = HTTPUpstream.proxyClient, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "scopegate.proxy"), identify: Identify? = nil,
        authenticateAtOnce: AuthenticateAtOnce? = nil, upstream: (any MCPUpstream)? = nil,
        exchangers: TokenExchangers = TokenExchangers(fetcher: AsyncHTTPClientFetcher(timeout: .seconds(5))),
        operations: ProxyOperations = .init()
    ) {
        self.operations = operations
        self.store = store
        self.configuration = configuration
        self.authenticate = authenticate
        self.client = client
        self.now = now
        self.logger = logger
        self.identify = identify
        self.authenticateAtOnce = authenticateAtOnce
        self.exchangers = exchangers
        var settings = configuration.authorization
        if settings.resourceMetadataURL == nil, let resource = configuration.resource {
            settings.resourceMetadataURL = BearerChallenge.metadataURL(forResource: resource)
        }
        self.settings = settings
        self.streams = StreamSlots(
            capacity: configuration.maxStreams, perPrincipal: configuration.maxStreamsPerPrincipal,
            metrics: operations.metrics)
        self.sessions = SessionTable(
            capacity: configuration.sessionCapacity, idleTimeout: configuration.sessionIdleTimeout, now: now)
        if let upstream {
            self.upstream = upstream
        } else if let command = configuration.upstreamCommand {
            self.upstream = StdioUpstream(
                argv: command, environment: configuration.upstreamEnvironment, timeout: configuration.upstreamTimeout,
                logger: logger)
        } else if let plain = HTTP1Upstream(
            url: configuration.upstream, timeout: configuration.upstreamTimeout, logger: logger)
        {
            self.upstream = plain
        } else {
            self.upstream = HTTPUpstream(
                url: configuration.upstream, timeout: configuration.upstreamTimeout, client: client, logger: logger)
        }
        self.plainUpstream = self.upstream as? HTTP1Upstream
    }

    /// Gets the upstream ready (starts and initializes a stdio child), so that a command that cannot start is
    /// reported at once; requests retry it anyway.
    public func prepare() async throws(UpstreamFailure) { try await upstream.prepare() }

    /// Stops the upstream (ends a stdio child).
    public func shutdown() async { await upstream.shutdown() }

    /// Handles one HTTP request; its latency (to the response head) is recorded by status.
    public func respond(to request: Request) async -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let response = await response(for: handle(request))
        operations.metrics.requestCompleted(
            status: response.status.code, nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
        return response
    }

    func handle(_ request: Request) async -> ProxyAnswer {
        let snapshot = store.current
        let policy = snapshot.policy
        let path = request.uri.path
        let endpoint = endpoint(for: policy)
        if let refusal = headRefusal(request.head, toEndpoint: path == endpoint && request.method == .post) {
            return refusal
        }
        if let answer = operations.respond(path: path) { return answer }
        // The metadata documents are served under `/.well-known/` only, so a request to the endpoint skips them.
        if path != endpoint || path.hasPrefix("/.well-known/") {
            let metadata = ProtectedResourceMetadata(policy: policy, resource: configuration.resource)
            if metadata.paths(endpoint: endpoint).contains(path) {
                guard request.method == .get || request.method == .head else { return .text(405, "") }
                return .json(200, Array(metadata.json.utf8), extra: ["Cache-Control": "max-age=300"])
            }
            if metadata.requirementsPaths(endpoint: endpoint).contains(path),
                let document = PublishedRequirements.document(policy: policy, resource: metadata.resource)
            {
                guard request.method == .get || request.method == .head else { return .text(405, "") }
                return .json(200, Array(document.jsonText.utf8), extra: ["Cache-Control": "max-age=300"])
            }
            guard path == endpoint else { return .text(404, "not found\n") }
        }

        var request = request
        let limits = configuration.authorization.limits
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            let rejection = RequestRejection(.tooLarge, "request body larger than \(limits.maxBodyBytes) bytes")
            operations.metrics.limitRefused(reason: rejection.code.id)
            return .json(413, rejection.responseBody())
        }
        let headers = MCPRequestHeaders(request.headers.map { ($0.name.rawName, $0.value) })
        let credential = await authenticate(headers.authorization, policy)
        switch decide(request.method, headers: headers, body: buffer, credential: credential, snapshot: snapshot) {
        case .answer(let answer):
            return answer
        case .forward(let filter, let requestIDs):
            return await forward(
                request.method, fields: request.headers, body: buffer, filter: filter, requestIDs: requestIDs)
        }
    }

    /// The answer to a request head over the limits (431 or 400; a JSON-RPC error when it was sent to the
    /// endpoint), or nil.
    func headRefusal(_ head: HTTPRequest, toEndpoint: Bool) -> ProxyAnswer? {
        headRefusal(
            method: head.method.rawValue, target: head.path ?? "", authority: head.authority,
            fields: head.headerFields.lazy.map { ($0.name.rawName, $0.value) }, toEndpoint: toEndpoint)
    }

    /// ``headRefusal(_:toEndpoint:)`` of a head in parts: `authority` is the `Host` value, and `fields` the other
    /// fields.
    func headRefusal(
        method: String, target: String, authority: String?, fields: some Sequence<(String, String)>,
        toEndpoint: Bool
    ) -> ProxyAnswer? {
        guard
            let refusal = configuration.authorization.limits.headRejection(
                method: method, target: target, authority: authority, fields: fields)
        else { return nil }
        operations.metrics.limitRefused(reason: refusal.code.id)
        logger.notice("refused a request head over the limit", metadata: ["reason": "\(refusal.message)"])
        guard toEndpoint else {
            return .text(refusal.code.httpStatus, "request header fields too large: \(refusal.message)\n")
        }
        return .json(refusal.code.httpStatus, refusal.responseBody())
    }

    /// What the policy decides about a request to the endpoint.
    enum Decided {
        /// Denied or malformed: answer this (nothing is forwarded).
        case answer(ProxyAnswer)
        /// Allowed: forward it, list answers filtered by `filter`; `requestIDs` are the ids of its calls.
        case forward(filter: ListFilter?, requestIDs: [JSONValue])
    }

    /// Authorizes a request to the endpoint with `credential` (``RequestAuthorizer``) and reports the verdict
    /// (audit, metrics).
    func decide(
        _ method: HTTPRequest.Method, headers: MCPRequestHeaders, body: ByteBuffer, credential: Credential,
        snapshot: PolicySnapshot
    ) -> Decided {
        let policy = snapshot.policy
        let authorizer = RequestAuthorizer(policy: policy, settings: settings)
        let deciding = DispatchTime.now().uptimeNanoseconds
        let verdict = authorizer.authorize(
            MCPHTTPRequest(method: method.rawValue, headers: headers, body: Array(buffer: body)),
            credential: credential)
        operations.reporter.report(
            verdict, credential: credential,
            token: operations.reporter.audit == nil ? nil : operations.verifiedToken(headers.authorization),
            snapshot: snapshot, nanoseconds: DispatchTime.now().uptimeNanoseconds &- deciding)
        guard verdict.allowed else {
            var extra: HTTPHeaders = [:]
            if let challenge = verdict.wwwAuthenticate { extra.add(name: "WWW-Authenticate", value: challenge) }
            return .answer(.json(verdict.status, verdict.body ?? [], extra: extra))
        }
        var filter: ListFilter?
        if case .granted(let grant, let expiresAt, _) = credential, !verdict.listRequests.isEmpty {
            filter = ListFilter(
                policy: policy, grant: grant, revision: verdict.revision, tokenExpiresAt: expiresAt, now: now(),
                requests: verdict.listRequests)
            filter?.mode = settings.mode
        }
        // By index: iterating copies each decision.
        let decisions = verdict.decisions
        return .forward(
            filter: filter,
            requestIDs: decisions.indices.compactMap { decisions[$0].call == nil ? nil : decisions[$0].id })
    }

    /// The path the MCP endpoint is served at under `policy`.
    func endpoint(for policy: CompiledPolicy) -> String {
        if let known = endpoints.withLock({ $0?.stamp == policy.stamp ? $0?.path : nil }) { return known }
        let path = configuration.endpoint(for: policy)
        endpoints.withLock { $0 = (policy.stamp, path) }
        return path
    }

    /// The session principal of a verified token ("" when there is no identity source).
    static func principal(of token: VerifiedToken?) -> String {
        token?.principal ?? ""
    }
}

/// Serves an ``MCPProxy`` with Hummingbird: every request in a task. With ``ProxyServer`` in front
/// (`server: .mcpProxy(proxy)`), it answers what the connection handler hands on.
///
/// ```swift
/// let app = Application(responder: ProxyResponder(proxy: proxy), server: .mcpProxy(proxy),
///                       configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public struct ProxyResponder: HTTPResponder {
    public typealias Context = BasicRequestContext
    public let proxy: MCPProxy

    public init(proxy: MCPProxy) { self.proxy = proxy }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        await proxy.respond(to: request)
    }
}
