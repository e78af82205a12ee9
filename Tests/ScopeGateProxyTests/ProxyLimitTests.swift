import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ScopeGate
import ScopeGateHTTPTestSupport
import ScopeGateOperations
import ScopeGateRequestAuthorization
import ScopeGateTokens
import ServiceLifecycle
import Testing

@testable import ScopeGateProxy
@testable import ScopeGateTokens

let limitPolicy = """
    version: 1
    resource:
      id: https://mcp.example.com/mcp
      authorization_servers: [https://auth.example.com]
    scopes:
      files:read: { risk: low }
    tools:
      hold: files:read
      quiet: files:read
      die: files:read
      done: files:read
      json: files:read
    """

/// An upstream whose answer is chosen by the tool name: `hold` (and a `GET`) streams a progress event every 20 ms
/// until the test releases it, then the result; `quiet` sends its stream's head, nothing until the test releases
/// it, then the result; `die` sends one event and breaks off; `done` sends an event and the result; anything else
/// answers JSON.
struct HoldingUpstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let log: UpstreamLog
    let release: FaultyUpstream.Release

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
        let tool =
            request.method == .get
            ? "get" : ["hold", "quiet", "die", "done"].first { body.contains("\"\($0)\"") } ?? "json"
        log.record(tool, nil)
        let sse: HTTPFields = [.contentType: "text/event-stream"]
        let result = FaultyUpstream.event(#"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)
        let release = self.release
        switch tool {
        case "json":
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)))
        case "die":
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    try await writer.write(FaultyUpstream.event(FaultyUpstream.progress))
                    throw FaultyUpstream.Broken()
                })
        case "quiet":
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    while !release.isSet { try await Task.sleep(for: .milliseconds(20)) }
                    try await writer.write(result)
                    try await writer.finish(nil)
                })
        case "done":
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    try await writer.write(FaultyUpstream.event(FaultyUpstream.progress))
                    try await writer.write(result)
                    try await writer.finish(nil)
                })
        default:
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    while !release.isSet {
                        try await writer.write(FaultyUpstream.event(FaultyUpstream.progress))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    try await writer.write(result)
                    try await writer.finish(nil)
                })
        }
    }
}

/// The proxy's request-head and concurrent-stream limits, over real HTTP on loopback.
@Suite(.serialized) struct ProxyLimitTests {
    struct Harness {
        let port: Int
        let proxy: MCPProxy
        let log: UpstreamLog
        let release: FaultyUpstream.Release
        let prometheus: PrometheusMetrics

        func metric(_ series: String) -> Double? {
            let text = String(decoding: prometheus.exposition(), as: UTF8.self)
            for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
                return Double(line.dropFirst(series.count + 1))
            }
            return nil
        }

        /// Waits (bounded) until the proxy holds `count` stream slots; returns how many it holds.
        func slots(settleAt count: Int) async throws -> Int {
            for _ in 0..<1_000 where proxy.streams.held() != count { try await Task.sleep(for: .milliseconds(10)) }
            return proxy.streams.held()
        }
    }

    /// `limitPolicy` in a store and a `HoldingUpstream` on a loopback port (released and stopped after `body`).
    func withHoldingUpstream(
        _ body: (_ store: PolicyStore, _ upstreamPort: Int, UpstreamLog, FaultyUpstream.Release) async throws -> Void
    ) async throws {
        let store = PolicyStore(
            initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: limitPolicy).compiled())
        let log = UpstreamLog()
        let release = FaultyUpstream.Release()
        let (up, upTask) = try await serveOnLoopback(HoldingUpstream(log: log, release: release))
        defer {
            release.set()
            upTask.cancel()
        }
        try await body(store, up, log, release)
    }

    /// A proxy over `HoldingUpstream`; every token is valid (files:read) and is its own principal. `atOnce`: tokens
    /// are known without waiting, so requests are answered on the event loop (``ProxyServer``), else each takes a
    /// task.
    func withProxy(
        maxStreams: Int = 8, perPrincipal: Int = 8, limits: RequestLimits = .init(), atOnce: Bool,
        idleTimeout: TimeAmount? = nil, _ body: (Harness) async throws -> Void
    ) async throws {
        try await withHoldingUpstream { store, up, log, release in
            var configuration = ProxyConfiguration(
                upstream: "http://127.0.0.1:\(up)/mcp", upstreamTimeout: .seconds(10))
            configuration.maxStreams = maxStreams
            configuration.maxStreamsPerPrincipal = perPrincipal
            configuration.authorization.limits = limits
            let prometheus = PrometheusMetrics()
            let credential: @Sendable (String?, CompiledPolicy) -> Credential = { header, policy in
                guard BearerChallenge.token(fromAuthorization: header) != nil else { return .missing }
                return .granted(
                    policy.grant(["files:read"]), expiresAt: Date(timeIntervalSinceNow: 600), stripPrefixes: [])
            }
            let identity: @Sendable (String?) -> VerifiedToken? = { header in
                guard let token = BearerChallenge.token(fromAuthorization: header) else { return nil }
                return VerifiedToken(
                    issuer: "https://auth.example.com", subject: token, clientID: nil, audiences: [],
                    scopes: ["files:read"], stripPrefixes: [], jwtID: nil, expiresAt: Date(timeIntervalSinceNow: 600),
                    claims: .object([:]))
            }
            let known: MCPProxy.AuthenticateAtOnce = { header, policy in (credential(header, policy), identity(header))
            }
            let proxy = MCPProxy(
                store: store, configuration: configuration, authenticate: { credential($0, $1) },
                identify: { header, _ in identity(header) },
                authenticateAtOnce: atOnce ? known : nil,
                operations: ProxyOperations(
                    reporter: DecisionReporter(audit: nil, metrics: prometheus.metrics), prometheus: prometheus))
            let (port, task) = try await serveProxy(proxy, idleTimeout: idleTimeout)
            defer { task.cancel() }
            try await body(Harness(port: port, proxy: proxy, log: log, release: release, prometheus: prometheus))
        }
    }

    static func call(_ tool: String) -> String {
        #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":{}}}"#
    }

    /// A `tools/call` of `tool` (a `GET` when `get`) to the proxy on `port`.
    static func request(
        _ port: Int, get: Bool = false, tool: String, token: String = "alice",
        accept: String = "application/json, text/event-stream", extra: [(String, String)] = []
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
        request.method = get ? .GET : .POST
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if !get {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: Self.call(tool)))
        }
        return request
    }

    /// A request to the proxy; its status, `Retry-After` and the body read to its end (or to its first chunk when
    /// `hangUp`: the client then drops the body, which closes the connection).
    func send(
        _ port: Int, get: Bool = false, tool: String = "json", token: String = "alice",
        accept: String = "application/json, text/event-stream", extra: [(String, String)] = [],
        hangUp: Bool = false
    ) async throws -> (status: Int, retryAfter: String?, body: String) {
        let request = Self.request(port, get: get, tool: tool, token: token, accept: accept, extra: extra)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var collected = ByteBuffer()
        do {
            for try await var chunk in response.body {
                collected.writeBuffer(&chunk)
                if hangUp { break }
            }
        } catch {}
        return (Int(response.status.code), response.headers.first(name: "retry-after"), String(buffer: collected))
    }

    /// Opens a held stream and returns once its head and first event have arrived; the task ends with the body.
    /// Opens a stream the upstream holds, and waits until the proxy holds its slot and the upstream has the
    /// request (the slot is taken before the request is forwarded).
    func openStream(_ h: Harness, token: String, get: Bool = false) async throws -> Task<String, any Error> {
        let before = h.proxy.streams.held()
        let forwarded = h.log.methods.count
        let task = Task { try await send(h.port, get: get, tool: "hold", token: token).body }
        #expect(try await h.slots(settleAt: before + 1) == before + 1)
        for _ in 0..<1_000 where h.log.methods.count == forwarded { try await Task.sleep(for: .milliseconds(10)) }
        #expect(h.log.methods.count == forwarded + 1)
        return task
    }

    /// A stream's head reaches the client when the upstream sends it, before any event: a client waiting on a
    /// quiet stream (`subscriptions/listen`) learns at once that it is open.
    @Test(arguments: [true, false]) func aQuietStreamsHeadReachesTheClientAtOnce(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { h in
            // The deadline covers the head only; the upstream holds every event until the release below.
            let response = try await HTTPClient.shared.execute(
                Self.request(h.port, tool: "quiet"), timeout: .seconds(5))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            #expect(!h.release.isSet)
            h.release.set()
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            #expect(body.contains(#""result""#))
        }
    }

    // MARK: header size

    @Test func theHeadSizeIsTheRequestAsHTTP1WritesIt() {
        // "GET / HTTP/1.1\r\n" (16) + "Host: a\r\n" (9) + "\r\n" (2)
        #expect(RequestLimits.headSize(method: "GET", target: "/", fields: [("Host", "a")]) == 27)
        let limits = RequestLimits(maxHeaderBytes: 27, maxHeaderFields: 1)
        #expect(limits.headRejection(method: "GET", target: "/", fields: [("Host", "a")]) == nil)
        #expect(limits.headRejection(method: "GET", target: "/", fields: [("Host", "ab")])?.code == .headerTooLarge)
        #expect(
            limits.headRejection(method: "GET", target: "/", fields: [("A", ""), ("B", "")])?.code == .headerTooLarge)
    }

    /// A head over the limit is answered 431 with a JSON-RPC error before the token is looked at, never forwarded,
    /// and counted; the same client is served right after.
    @Test(arguments: [true, false]) func aHeadOverTheLimitIs431AndNeverForwarded(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { h in
            let padding = String(repeating: "x", count: 33 << 10)
            let refused = try await send(h.port, token: "no-such-token", extra: [("X-Padding", padding)])
            #expect(refused.status == 431)
            #expect(refused.body.contains(#""code":-32600"#))
            #expect(refused.body.contains("request.header_too_large"))
            #expect(h.log.methods.isEmpty)
            #expect(h.metric(#"scopegate_limit_refusals_total{reason="request.header_too_large"}"#) == 1)
            let many = (0..<101).map { ("X-Field-\($0)", "1") }
            #expect(try await send(h.port, extra: many).status == 431)
            #expect(h.log.methods.isEmpty)
            #expect(try await send(h.port).status == 200)
            #expect(h.log.methods == ["json"])
        }
    }

    /// A head of exactly the limit passes; one byte more is refused.
    @Test(arguments: [true, false]) func aHeadAtTheLimitPasses(atOnce: Bool) async throws {
        try await withProxy(limits: RequestLimits(maxHeaderBytes: 2048), atOnce: atOnce) { h in
            func request(padding: Int) -> Request {
                var fields: HTTPFields = [
                    .contentType: "application/json", .accept: "application/json, text/event-stream",
                    .authorization: "Bearer alice",
                ]
                fields[HTTPFields.Element.Name("MCP-Protocol-Version")!] = "2025-11-25"
                fields[HTTPFields.Element.Name("X-Padding")!] = String(repeating: "p", count: padding)
                return Request(
                    head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/mcp", headerFields: fields),
                    body: RequestBody(buffer: ByteBuffer(string: Self.call("json"))))
            }
            let base = RequestLimits.headSize(
                method: "POST", target: "/mcp", fields: request(padding: 0).headers.map { ($0.name.rawName, $0.value) })
            let atLimit = await h.proxy.respond(to: request(padding: 2048 - base))
            #expect(atLimit.status.code == 200)
            let over = await h.proxy.respond(to: request(padding: 2048 - base + 1))
            #expect(over.status.code == 431)
            #expect(h.log.methods == ["json"])
        }
    }

    // MARK: concurrent streams

    /// Past the global cap a request that may open a stream is refused with 503, `Retry-After` and -32006 before
    /// it reaches the upstream; one that accepts only JSON is still served; the slots come back when the streams
    /// end, and the gauge and the refusal counter follow.
    @Test(arguments: [true, false]) func theGlobalCapRefusesWith503(atOnce: Bool) async throws {
        try await withProxy(maxStreams: 2, atOnce: atOnce) { h in
            let first = try await openStream(h, token: "alice")
            let second = try await openStream(h, token: "bob", get: true)
            #expect(h.metric("scopegate_streams_open") == 2)
            let refused = try await send(h.port, tool: "hold", token: "carol")
            #expect(refused.status == 503)
            #expect(refused.retryAfter == "5")
            #expect(refused.body.contains(#""code":-32006"#))
            #expect(refused.body.contains(#""reason":"stream.limit""#))
            #expect(h.log.methods.sorted() == ["get", "hold"])
            #expect(h.metric(#"scopegate_limit_refusals_total{reason="stream.limit"}"#) == 1)
            let jsonOnly = try await send(h.port, token: "carol", accept: "application/json")
            #expect(jsonOnly.status == 200)
            h.release.set()
            #expect(try await first.value.contains(#""result""#))
            _ = try await second.value
            #expect(try await h.slots(settleAt: 0) == 0)
            #expect(h.metric("scopegate_streams_open") == 0)
            #expect(try await send(h.port, tool: "done", token: "carol").status == 200)
        }
    }

    /// Past a principal's cap its own requests are refused with 429; another principal is served.
    @Test(arguments: [true, false]) func thePerPrincipalCapRefusesWith429(atOnce: Bool) async throws {
        try await withProxy(maxStreams: 8, perPrincipal: 1, atOnce: atOnce) { h in
            let held = try await openStream(h, token: "alice")
            let refused = try await send(h.port, tool: "hold", token: "alice")
            #expect(refused.status == 429)
            #expect(refused.retryAfter == "5")
            #expect(refused.body.contains(#""reason":"stream.principal_limit""#))
            #expect(h.metric(#"scopegate_limit_refusals_total{reason="stream.principal_limit"}"#) == 1)
            let alice = VerifiedToken.principal(issuer: "https://auth.example.com", subject: "alice", clientID: nil)
            #expect(h.proxy.streams.held(by: alice) == 1)
            let other = try await send(h.port, tool: "done", token: "bob")
            #expect(other.status == 200)
            #expect(other.body.contains(#""result""#))
            #expect(h.log.methods == ["hold", "done"])
            h.release.set()
            _ = try await held.value
            #expect(try await h.slots(settleAt: 0) == 0)
        }
    }

    /// A JSON answer gives its slot back at once; a stream that completes, one whose client goes away, one the
    /// upstream breaks off, and a response dropped before its body ran each give theirs back.
    @Test(arguments: [true, false]) func slotsComeBackHoweverAStreamEnds(atOnce: Bool) async throws {
        try await withProxy(maxStreams: 1, atOnce: atOnce) { h in
            #expect(try await send(h.port, tool: "json").status == 200)
            #expect(h.proxy.streams.held() == 0)

            let completed = try await send(h.port, tool: "done")
            #expect(completed.body.contains(#""result""#))
            #expect(try await h.slots(settleAt: 0) == 0)

            // The client gives up mid-stream: the proxy's next write fails and the slot comes back.
            let gone = try await send(h.port, tool: "hold", hangUp: true)
            #expect(gone.status == 200)
            #expect(!gone.body.contains(#""result""#))
            #expect(try await h.slots(settleAt: 0) == 0)

            let broken = try await send(h.port, tool: "die")
            #expect(broken.body.contains("-32004"))
            #expect(try await h.slots(settleAt: 0) == 0)

            // Shutdown or a connection gone before the body is written: the response is dropped unrun.
            var fields: HTTPFields = [
                .contentType: "application/json", .accept: "text/event-stream, application/json",
                .authorization: "Bearer alice",
            ]
            fields[HTTPFields.Element.Name("MCP-Protocol-Version")!] = "2025-11-25"
            var response: Response? = await h.proxy.respond(
                to: Request(
                    head: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/mcp", headerFields: fields),
                    body: RequestBody(buffer: ByteBuffer(string: Self.call("hold")))))
            #expect(response?.status.code == 200)
            #expect(h.proxy.streams.held() == 1)
            response = nil
            #expect(try await h.slots(settleAt: 0) == 0)
            #expect(try await send(h.port, tool: "done").status == 200)
        }
    }

    /// The proxy's server is stopped as SIGTERM stops it (its service group's graceful shutdown) while a stream
    /// is open: the stream is drained, not cut, and its slot comes back when it ends. (Cancelling the server's
    /// task instead drops connections it has accepted but not served, which SwiftNIO traps on in its writers'
    /// deinit; the gateway never stops that way.)
    @Test(arguments: [true, false]) func aStreamOpenWhenTheServerStopsIsDrainedAndGivesItsSlotBack(atOnce: Bool)
        async throws
    {
        try await withHoldingUpstream { store, up, _, release in
            let credential: @Sendable (CompiledPolicy) -> Credential = { policy in
                .granted(policy.grant(["files:read"]), expiresAt: Date(timeIntervalSinceNow: 600), stripPrefixes: [])
            }
            let known: MCPProxy.AuthenticateAtOnce = { (credential($1), nil) }
            let proxy = MCPProxy(
                store: store, configuration: ProxyConfiguration(upstream: "http://127.0.0.1:\(up)/mcp"),
                authenticate: { credential($1) }, authenticateAtOnce: atOnce ? known : nil)
            let bound = BoundPort()
            let app = Application(
                responder: ProxyResponder(proxy: proxy), server: .mcpProxy(proxy),
                configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in bound.set(channel.localAddress?.port ?? 0) })
            let group = ServiceGroup(
                configuration: .init(services: [app], logger: Logger(label: "scopegate.test.shutdown")))
            let serving = Task { try await group.run() }
            for _ in 0..<400 where bound.get == 0 { try await Task.sleep(for: .milliseconds(25)) }
            let port = bound.get
            let stream = Task { try await send(port, tool: "hold").body }
            for _ in 0..<1_000 where proxy.streams.held() == 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(proxy.streams.held() == 1)
            await group.triggerGracefulShutdown()
            #expect(proxy.streams.held() == 1, "a graceful stop drains the stream rather than cutting it")
            release.set()
            _ = try? await stream.value
            try await serving.value
            for _ in 0..<1_000 where proxy.streams.held() != 0 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(proxy.streams.held() == 0)
        }
    }
}
