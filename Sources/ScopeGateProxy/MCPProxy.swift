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
/// ```swift
/// let proxy = MCPProxy(store: store, configuration: .init(upstream: "http://127.0.0.1:9000/mcp"),
///                      authenticate: { header, policy in await verifier.credential(header, policy) })
/// let app = Application(responder: ProxyResponder(proxy: proxy), configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public final class MCPProxy: Sendable {
    /// Turns an `Authorization` header into a credential resolved against `policy` (verification, caching).
    public typealias Authenticate = @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> Credential
    /// The verified token of an `Authorization` header, for its principal (sessions) and the token exchange.
    public typealias Identify = @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> VerifiedToken?

    public let store: PolicyStore
    public let configuration: ProxyConfiguration
    let authenticate: Authenticate
    let client: HTTPClient
    let now: @Sendable () -> Date
    let logger: Logger
    let upstream: any MCPUpstream
    let identify: Identify?
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
    ///   - upstream: where requests go (default: ``StdioUpstream`` for `configuration.upstreamCommand`, else
    ///     ``HTTP1Upstream`` for an `http://` `configuration.upstream` and ``HTTPUpstream`` for any other).
    ///   - exchangers: the RFC 8693 exchangers for `downstream:` tools (default: on AsyncHTTPClient, 5 s per request).
    ///   - operations: audit, metrics and the operations endpoints (default: metrics to the process-wide
    ///     backend, no audit, no `/metrics`).
    public init(
        store: PolicyStore, configuration: ProxyConfiguration, authenticate: @escaping Authenticate,
        client: HTTPClient = HTTPUpstream.proxyClient, now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "scopegate.proxy"), identify: Identify? = nil,
        upstream: (any MCPUpstream)? = nil,
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
    }

    /// Gets the upstream ready (starts and initializes a stdio child), so that a command that cannot start is
    /// reported at once; requests retry it anyway.
    public func prepare() async throws(UpstreamFailure) { try await upstream.prepare() }

    /// Stops the upstream (ends a stdio child).
    public func shutdown() async { await upstream.shutdown() }

    /// Handles one HTTP request; its latency (to the response head) is recorded by status.
    public func respond(to request: Request) async -> Response {
        let started = DispatchTime.now().uptimeNanoseconds
        let response = await handle(request)
        operations.metrics.requestCompleted(
            status: response.status.code, nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
        return response
    }

    func handle(_ request: Request) async -> Response {
        let snapshot = store.current
        let policy = snapshot.policy
        let path = request.uri.path
        let endpoint = endpoint(for: policy)
        let limits = configuration.authorization.limits
        if let refusal = limits.headRejection(
            method: request.method.rawValue, target: request.uri.description, authority: request.head.authority,
            fields: request.headers.lazy.map { ($0.name.rawName, $0.value) })
        {
            operations.metrics.limitRefused(reason: refusal.code.id)
            logger.notice("refused a request head over the limit", metadata: ["reason": "\(refusal.message)"])
            guard path == endpoint, request.method == .post else {
                return Self.text(refusal.code.httpStatus, "request header fields too large: \(refusal.message)\n")
            }
            return Self.json(refusal.code.httpStatus, refusal.responseBody())
        }
        if let answer = operations.respond(path: path) { return answer }
        // The metadata documents are served under `/.well-known/` only, so a request to the endpoint skips them.
        if path != endpoint || path.hasPrefix("/.well-known/") {
            let metadata = ProtectedResourceMetadata(policy: policy, resource: configuration.resource)
            if metadata.paths(endpoint: endpoint).contains(path) {
                guard request.method == .get || request.method == .head else { return Self.text(405, "") }
                return Self.json(200, Array(metadata.json.utf8), extra: [.cacheControl: "max-age=300"])
            }
            if metadata.requirementsPaths(endpoint: endpoint).contains(path),
                let document = PublishedRequirements.document(policy: policy, resource: metadata.resource)
            {
                guard request.method == .get || request.method == .head else { return Self.text(405, "") }
                return Self.json(200, Array(document.jsonText.utf8), extra: [.cacheControl: "max-age=300"])
            }
            guard path == endpoint else { return Self.text(404, "not found\n") }
        }

        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            let rejection = RequestRejection(.tooLarge, "request body larger than \(limits.maxBodyBytes) bytes")
            operations.metrics.limitRefused(reason: rejection.code.id)
            return Self.json(413, rejection.responseBody())
        }
        let fields = request.headers.map { ($0.name.rawName, $0.value) }
        let headers = MCPRequestHeaders(fields)
        let credential = await authenticate(headers.authorization, policy)
        let authorizer = RequestAuthorizer(policy: policy, settings: settings)
        let body = Array(buffer.readableBytesView)
        let deciding = DispatchTime.now().uptimeNanoseconds
        let verdict = authorizer.authorize(
            MCPHTTPRequest(method: request.method.rawValue, headers: headers, body: body), credential: credential)
        operations.reporter.report(
            verdict, credential: credential,
            token: operations.reporter.audit == nil ? nil : operations.verifiedToken(headers.authorization),
            snapshot: snapshot, nanoseconds: DispatchTime.now().uptimeNanoseconds &- deciding)
        guard verdict.allowed else {
            var extra: HTTPFields = [:]
            if let challenge = verdict.wwwAuthenticate { extra[.wwwAuthenticate] = challenge }
            return Self.json(verdict.status, verdict.body ?? [], extra: extra)
        }
        var filter: ListFilter?
        if case .granted(let grant, let expiresAt, _) = credential, !verdict.listRequests.isEmpty {
            filter = ListFilter(
                policy: policy, grant: grant, revision: verdict.revision, tokenExpiresAt: expiresAt, now: now(),
                requests: verdict.listRequests)
            filter?.mode = settings.mode
        }
        let requestIDs = verdict.decisions.compactMap { $0.call == nil ? nil : $0.id }
        return await forward(request, body: buffer, filter: filter, requestIDs: requestIDs)
    }

    /// Sends the request upstream and streams the answer back: the session checked against the token's
    /// principal (404 when it is another's or unknown, never forwarded), a stream slot taken when the answer may
    /// be a stream (``mayStream(_:requestIDs:)``), the upstream credential added. An event stream
    /// the upstream breaks off ends with an error for each of `requestIDs` (``relayEvents``).
    func forward(_ request: Request, body: ByteBuffer, filter: ListFilter?, requestIDs: [JSONValue]) async -> Response {
        let policy = store.current.policy
        let authorization = request.headers[.authorization]
        let sessionID = request.headers[ProxyHeaders.sessionID]
        // The principal costs a token-cache lookup: only when a session, a stdio bridge, an exchange or a stream
        // slot (counted per principal) needs it.
        let exchanges = configuration.upstreamCommand == nil && hasDownstreamTools(policy)
        let mayStream = Self.mayStream(request, requestIDs: requestIDs)
        let identified = sessionID != nil || configuration.upstreamCommand != nil || exchanges || mayStream
        let identity = identified ? await identify?(authorization, policy) : nil
        var principal = Self.principal(of: identity)
        if let sessionID, !sessions.use(sessionID, by: principal) {
            logger.notice("refused a session bound to another principal or unknown")
            let failure = JSONRPCError(code: ScopeGateErrorCode.sessionNotFound, message: "session not found")
            return Self.json(404, failure.response(id: nil))
        }
        var slot: StreamSlot?
        if mayStream {
            switch streams.acquire(principal: principal) {
            case .success(let taken): slot = taken
            case .failure(let refusal): return Self.refused(refusal, logger: logger)
            }
        }
        var outgoing = UpstreamRequest(
            method: request.method.rawValue, headers: request.headers, body: body,
            authorization: configuration.upstreamAuthorization, principal: principal)
        if exchanges {
            switch await downstreamCredential(body, policy: policy, authorization: authorization, identity: identity) {
            case .none: break
            case .token(let value): outgoing.authorization = value
            case .refused(let response): return response
            }
        }
        let response: UpstreamResponse
        do throws(UpstreamFailure) {
            response = try await upstream.send(outgoing)
        } catch {
            operations.metrics.upstreamError(kind: error.code == .timeout ? "timeout" : "unreachable")
            logger.warning("upstream failed", metadata: ["error": "\(error.code)"])
            let failure = JSONRPCError(code: ScopeGateErrorCode.upstreamUnavailable, message: error.message)
            return Self.json(error.code == .timeout ? 504 : 502, failure.response(id: nil))
        }
        if response.status == 401 {
            // The upstream refused the proxy's own credential (none, static or exchanged). The client's token
            // cannot fix that, and the upstream's challenge names the upstream's authorization, not the proxy's:
            // passed on, it would send the client to get a token the proxy does not accept.
            operations.metrics.upstreamError(kind: "unauthorized")
            logger.warning("the upstream refused the proxy's credential (401)")
            let failure = JSONRPCError(
                code: ScopeGateErrorCode.upstreamUnavailable, message: "the upstream refused the proxy's credential",
                data: .object(["reason": .string("upstream_unauthorized")]))
            return Self.json(502, failure.response(id: nil))
        }
        if (200..<300).contains(response.status) {
            if let issued = response.headers.first(name: "mcp-session-id"), issued != sessionID {
                if !identified { principal = Self.principal(of: await identify?(authorization, policy)) }
                guard sessions.bind(issued, to: principal) else {
                    logger.warning("the upstream issued a session id already bound to another principal")
                    let failure = JSONRPCError(
                        code: ScopeGateErrorCode.upstreamUnavailable, message: "the upstream reused a session id")
                    return Self.json(502, failure.response(id: nil))
                }
            }
            if request.method == .delete, let sessionID { sessions.remove(sessionID, by: principal) }
        }
        operations.readiness.set("upstream")
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        let isStream = contentType.hasPrefix("text/event-stream")
        if !isStream {
            slot?.release()
        } else if slot == nil {
            // An event stream to a request that did not announce one (no `Accept: text/event-stream`): it takes
            // a slot now, and when none is free nothing of it goes to the client.
            if !identified { principal = Self.principal(of: await identify?(authorization, policy)) }
            switch streams.acquire(principal: principal) {
            case .success(let taken): slot = taken
            case .failure(let refusal): return Self.refused(refusal, logger: logger)
            }
        }
        // A list answer is read to be filtered: only JSON or SSE, and only as plain bytes (the proxy asks for no
        // content coding, ``ProxyHeaders``, but an upstream may apply one anyway).
        let readable = ProxyHeaders.isIdentity(contentEncoding: response.headers["content-encoding"])
        let rewrites = filter != nil && readable && (isStream || contentType.hasPrefix("application/json"))
        var fields = ProxyHeaders.downstream(response.headers, dropLength: rewrites || isStream)
        if isStream { fields.append(ProxyHeaders.noBuffering) }
        let status = HTTPResponse.Status(code: response.status)
        let upstreamBody = response.body
        if filter != nil, !rewrites {
            // A list answer that cannot be filtered is never passed on unfiltered (fail closed).
            operations.metrics.upstreamError(kind: "unfilterable")
            logger.warning(
                "upstream answered a list request with content type \(contentType)\(readable ? "" : ", encoded")")
            let failure = JSONRPCError(
                code: ScopeGateErrorCode.upstreamUnavailable,
                message: "the upstream answered a list request with a content type or coding that cannot be filtered")
            return Self.json(502, failure.response(id: nil))
        }
        if isStream {
            let (metrics, logger, slot) = (operations.metrics, logger, slot)
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    defer { slot?.release() }
                    let ended = try await Self.relayEvents(
                        upstreamBody, filter: filter, requestIDs: requestIDs, to: &writer)
                    if !ended {
                        metrics.upstreamError(kind: "stream_broken")
                        logger.warning("the upstream broke off a stream")
                    }
                    try await writer.finish(nil)
                })
        }
        guard let filter, rewrites else {
            if case .bytes(let whole) = upstreamBody {
                return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: whole))
            }
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    for try await chunk in upstreamBody { try await writer.write(chunk) }
                    try await writer.finish(nil)
                })
        }
        var collected: [UInt8] = []
        do {
            for try await chunk in upstreamBody {
                collected += chunk.readableBytesView
                guard collected.count <= 16 << 20 else { throw ProxyFailure.responseTooLarge }
            }
        } catch {
            operations.metrics.upstreamError(kind: "unreadable")
            logger.warning("upstream response unreadable", metadata: ["error": "\(error)"])
            let failure = JSONRPCError(
                code: ScopeGateErrorCode.upstreamUnavailable, message: "the upstream response could not be read")
            return Self.json(502, failure.response(id: nil))
        }
        return Response(
            status: status, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: filter.filterBody(collected))))
    }

    enum ProxyFailure: Error { case responseTooLarge }

    /// The path the MCP endpoint is served at under `policy`.
    func endpoint(for policy: CompiledPolicy) -> String {
        if let known = endpoints.withLock({ $0?.stamp == policy.stamp ? $0?.path : nil }) { return known }
        let path = configuration.endpoint(for: policy)
        endpoints.withLock { $0 = (policy.stamp, path) }
        return path
    }

    /// The session principal of a verified token ("" when there is no identity source).
    static func principal(of token: VerifiedToken?) -> String {
        token.map { SessionTable.principal(issuer: $0.issuer, subject: $0.subject, clientID: $0.clientID) } ?? ""
    }

    static func json(_ status: Int, _ body: [UInt8], extra: HTTPFields = [:]) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: extra)
        return Response(
            status: .init(code: status), headers: fields,
            body: body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func text(_ status: Int, _ text: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Serves an ``MCPProxy`` with Hummingbird.
///
/// ```swift
/// let app = Application(responder: ProxyResponder(proxy: proxy),
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
