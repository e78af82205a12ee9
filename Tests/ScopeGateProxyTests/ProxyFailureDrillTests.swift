import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateHTTPTestSupport
import ScopeGateRequestAuthorization
import Testing

@testable import ScopeGateProxy
@testable import ScopeGateTokens

/// An upstream with faults on demand, chosen by the tool name in the body: `hang` accepts and never answers
/// (until the test releases it), `die` starts an SSE answer and breaks off, `stream` answers a few progress
/// events and then the result, anything else answers JSON at once.
struct FaultyUpstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let log: UpstreamLog
    let release: Release

    /// Lets held requests go when the test ends, so that the server's graceful shutdown is not held up.
    final class Release: @unchecked Sendable {
        private let lock = NSLock()
        private var released = false
        func set() { lock.withLock { released = true } }
        var isSet: Bool { lock.withLock { released } }
    }

    struct Broken: Error {}

    static func event(_ text: String) -> ByteBuffer { ByteBuffer(string: "data: " + text + "\n\n") }
    static let progress = #"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
        let tool =
            ["hang", "die", "stream", "read_file", "flip", "never"].first { body.contains("\"\($0)\"") } ?? "list"
        log.record(tool, nil)
        let sse: HTTPFields = [.contentType: "text/event-stream"]
        switch tool {
        case "hang":
            while !release.isSet { try await Task.sleep(for: .milliseconds(20)) }
            return Response(status: .serviceUnavailable)
        case "die":
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    try await writer.write(Self.event(Self.progress))
                    throw Broken()
                })
        case "list":
            let list =
                #"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"stream"},{"name":"flip"},{"name":"never"},{"name":"read_file"}]}}"#
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    try await writer.write(Self.event(Self.progress))
                    try await writer.write(ByteBuffer(string: "data: " + list.prefix(30)))
                    try await Task.sleep(for: .milliseconds(1))
                    try await writer.write(ByteBuffer(string: list.dropFirst(30) + "\n\n"))
                    try await writer.finish(nil)
                })
        case "read_file":
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)))
        default:
            return Response(
                status: .ok, headers: sse,
                body: ResponseBody { writer in
                    for _ in 0..<3 {
                        try await writer.write(Self.event(Self.progress))
                        await Task.yield()
                    }
                    try await writer.write(Self.event(#"{"jsonrpc":"2.0","id":1,"result":{"content":[],"done":true}}"#))
                    try await writer.finish(nil)
                })
        }
    }
}

/// Serves a proxy over `FaultyUpstream` on loopback, with test tokens `reader` (files:read) and `writer`
/// (files:write); returns what the body needs.
func withFaultyProxy(
    policy source: String = flipPolicy(0), upstreamTimeout: Duration = .seconds(10), atOnce: Bool = true,
    _ body: (_ port: Int, _ store: PolicyStore, _ log: UpstreamLog) async throws -> Void
) async throws {
    let store = PolicyStore(
        initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).compiled())
    let log = UpstreamLog()
    let release = FaultyUpstream.Release()
    let (up, upTask) = try await serveOnLoopback(FaultyUpstream(log: log, release: release))
    defer {
        release.set()
        upTask.cancel()
    }
    let scopes = ["reader": ["files:read"], "writer": ["files:write"]]
    let credential: @Sendable (String?, CompiledPolicy) -> Credential = { header, policy in
        guard let token = BearerChallenge.token(fromAuthorization: header) else { return .missing }
        guard let granted = scopes[token] else { return .invalid(TokenError(.malformed, "unknown test token")) }
        return .granted(policy.grant(granted), expiresAt: Date(timeIntervalSinceNow: 600), stripPrefixes: [])
    }
    // `atOnce`: requests are answered on the event loop (``ProxyServer``), else each takes a task.
    let known: MCPProxy.AuthenticateAtOnce = { (credential($0, $1), nil) }
    let proxy = MCPProxy(
        store: store,
        configuration: ProxyConfiguration(upstream: "http://127.0.0.1:\(up)/mcp", upstreamTimeout: upstreamTimeout),
        authenticate: { credential($0, $1) },
        authenticateAtOnce: atOnce ? known : nil)
    let (port, task) = try await serveProxy(proxy)
    defer { task.cancel() }
    try await body(port, store, log)
}

/// A POST to the proxy; the body read to its end, or the error that ended it.
func drillPost(_ port: Int, tool: String, token: String = "reader", id: Int = 1, method: String = "tools/call")
    async throws -> (status: Int, body: String, error: (any Error)?)
{
    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.headers.add(name: "Accept", value: "application/json, text/event-stream")
    request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    let text =
        method == "tools/call"
        ? #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{}}}"#
        : #"{"jsonrpc":"2.0","id":\#(id),"method":"\#(method)"}"#
    request.body = .bytes(ByteBuffer(string: text))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    var collected = ByteBuffer()
    do {
        for try await var chunk in response.body { collected.writeBuffer(&chunk) }
    } catch {
        return (Int(response.status.code), String(buffer: collected), error)
    }
    return (Int(response.status.code), String(buffer: collected), nil)
}

@Suite(.serialized) struct ProxyFailureDrillTests {
    /// The upstream accepts the request and never answers: after the upstream timeout the client gets a 504
    /// with a JSON-RPC error, while other clients are served meanwhile. The timeout (3 s) leaves the other call
    /// room on a machine busy with the rest of the suite (at 1 s, one CI run saw it time out too).
    @Test(arguments: [true, false]) func anUpstreamThatNeverAnswersIs504AndOthersAreServed(atOnce: Bool) async throws {
        try await withFaultyProxy(upstreamTimeout: .seconds(3), atOnce: atOnce) { port, _, log in
            async let hung = drillPost(port, tool: "hang")
            let other = try await drillPost(port, tool: "read_file")
            #expect(other.status == 200)
            #expect(other.body.contains(#""result""#))
            let answer = try await hung
            #expect(answer.status == 504)
            #expect(answer.body.contains("-32004"))
            #expect(answer.body.contains("did not answer in time"))
            #expect(log.methods.contains("hang"))
        }
    }

    /// The upstream breaks off in the middle of an SSE answer: the client's stream ends with a JSON-RPC error
    /// for its request (-32004) after what had arrived, and the next request is served.
    @Test(arguments: [true, false]) func anUpstreamDyingMidStreamEndsTheClientsStreamWithAnError(atOnce: Bool)
        async throws
    {
        try await withFaultyProxy(atOnce: atOnce) { port, _, _ in
            let broken = try await drillPost(port, tool: "die", id: 7)
            #expect(broken.status == 200)
            #expect(broken.error == nil)
            #expect(broken.body.hasPrefix("data: " + FaultyUpstream.progress + "\n\n"))
            #expect(!broken.body.contains(#""result""#))
            #expect(
                broken.body.hasSuffix(
                    #"event: message\#ndata: {"jsonrpc":"2.0","id":7,"error":{"code":-32004,"message":"the upstream broke off the stream before its answer"}}\#n\#n"#
                ))
            let next = try await drillPost(port, tool: "stream")
            #expect(next.status == 200)
            #expect(next.error == nil)
            #expect(next.body.contains(#""done":true"#))
        }
    }

    /// 10,000 requests with distinct tokens that fail verification leave every cached valid token in place:
    /// only verified tokens ever enter the cache.
    @Test func tenThousandInvalidTokensDoNotEvictValidOnes() async throws {
        let store = PolicyStore(
            initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: proxyPolicy)
                .compiled())
        let policy = store.current.policy
        let tokens = TokenAuthenticator(store: store, capacity: 1_000)
        _ = tokens.verifier(for: policy)
        let valid = (0..<200).map { "valid.token.\($0)" }
        for token in valid {
            let verified = VerifiedToken(
                issuer: "https://auth.example.com", subject: token, clientID: nil, audiences: [],
                scopes: ["files:read"],
                stripPrefixes: [], jwtID: nil, expiresAt: Date(timeIntervalSinceNow: 3600), claims: .object([:]))
            tokens.cache.insert(token, verified: verified, extra: policy.grant(verified.scopes))
        }
        var refused = 0
        for i in 0..<10_000 {
            let header = "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.forged-\(i)"
            if case .invalid = await tokens.credential(header, policy) { refused += 1 }
        }
        #expect(refused == 10_000)
        #expect(tokens.cache.count == valid.count)
        for token in valid {
            guard case .granted(let grant, _, _) = await tokens.credential("Bearer \(token)", policy) else {
                Issue.record("the valid token \(token) was evicted")
                continue
            }
            #expect(policy.isAllowed(.tool("read_file"), grant: grant))
        }
    }

    /// A body over the limit is refused with 413 before the proxy reads more of it than the limit.
    @Test(arguments: [true, false]) func aBodyOverTheLimitIs413(atOnce: Bool) async throws {
        try await withFaultyProxy(atOnce: atOnce) { port, _, log in
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Authorization", value: "Bearer reader")
            request.body = .bytes(ByteBuffer(repeating: UInt8(ascii: " "), count: (1 << 20) + 1))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status.code == 413)
            #expect(String(buffer: try await response.body.collect(upTo: 1 << 16)).contains("larger than"))
            #expect(log.methods.isEmpty)
            #expect(try await drillPost(port, tool: "read_file").status == 200)
        }
    }
}
