import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateHTTPTestSupport
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

@testable import ScopeGateTokens

/// `files:write` implies `files:read`; `read_file` and `write_file` need them.
let proxyPolicy = GatewayTestPolicy.files

/// What the in-process upstream saw.
final class UpstreamLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(method: String, authorization: String?, acceptEncoding: String?)] = []
    func record(_ method: String, _ authorization: String?, acceptEncoding: String? = nil) {
        lock.withLock { entries.append((method, authorization, acceptEncoding)) }
    }
    var methods: [String] { lock.withLock { entries.map(\.method) } }
    var authorizations: [String] { lock.withLock { entries.compactMap(\.authorization) } }
    var acceptEncodings: [String] { lock.withLock { entries.compactMap(\.acceptEncoding) } }
}

/// A fast MCP server: `tools/call` answers JSON, `tools/list` answers an SSE stream (a progress notification,
/// then the list) or JSON when the request asks for `Accept: application/json` only. `X-Test: redirect` answers
/// 307 to another path; `X-Test: encoded` answers with a content coding whatever the request accepts;
/// `X-Test: unauthorized` and `X-Test: forbidden` answer 401 and 403 with the upstream's own challenges.
struct Upstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let log: UpstreamLog
    static let tools =
        #"{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"write_file"},{"name":"secret"},{"name":"read_file"}],"ttlMs":600000}}"#

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
        let method = body.contains("\"tools/list\"") ? "tools/list" : "tools/call"
        log.record(method, request.headers[.authorization], acceptEncoding: request.headers[.acceptEncoding])
        let test = request.headers[HTTPFields.Element.Name("X-Test")!]
        if test == "redirect" {
            return Response(status: .temporaryRedirect, headers: [.location: "/elsewhere"])
        }
        if test == "unauthorized" || test == "forbidden" {
            let challenge =
                test == "unauthorized"
                ? #"Bearer resource_metadata="http://upstream.invalid/.well-known/oauth-protected-resource""#
                : #"Bearer error="insufficient_scope", scope="upstream:admin""#
            return Response(
                status: test == "unauthorized" ? .unauthorized : .forbidden,
                headers: [.wwwAuthenticate: challenge, .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"upstream says no"}"#)))
        }
        if test == "encoded" {
            let body = method == "tools/call" ? "not plain bytes" : Self.tools
            return Response(
                status: .ok, headers: [.contentType: "application/json", .contentEncoding: "br"],
                body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        if method == "tools/call" {
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)))
        }
        if request.headers[.accept] == "text/plain" {
            return Response(
                status: .ok, headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: Self.tools)))
        }
        if request.headers[.accept] == "application/json" {
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: Self.tools)))
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream"],
            body: ResponseBody { writer in
                try await writer.write(
                    ByteBuffer(
                        string: "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{}}\n\n"))
                try await writer.write(ByteBuffer(string: "data: " + Self.tools.prefix(40)))
                try await writer.write(ByteBuffer(string: Self.tools.dropFirst(40) + "\n\n"))
                try await writer.finish(nil)
            })
    }
}

@Suite(.serialized) struct ProxyTests {
    /// `slow`: a token that must be verified (not known at once), so its requests always take a task.
    static let scopes = ["reader": ["files:read"], "writer": ["files:write"], "slow": ["files:read"]]

    /// Requests authenticated by the proxy's `authenticate` (a task), not at once on the event loop.
    let awaited = Counter()

    /// Serves a proxy in front of ``Upstream`` (or of `upstreamPort`). `atOnce`: the test tokens are also known
    /// without waiting, so requests with them are answered on the event loop (``ProxyServer``); the answers must
    /// be the same either way.
    func withProxy(
        upstreamPort: Int? = nil, atOnce: Bool = true, _ body: (Int, UpstreamLog) async throws -> Void
    ) async throws {
        let store = PolicyStore(
            initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: proxyPolicy).compiled())
        let log = UpstreamLog()
        let (up, upTask) = try await serveOnLoopback(Upstream(log: log))
        defer { upTask.cancel() }
        let target = upstreamPort ?? up
        let credential: @Sendable (String?, CompiledPolicy) -> Credential = { header, policy in
            guard let token = BearerChallenge.token(fromAuthorization: header) else { return .missing }
            guard let granted = Self.scopes[token] else {
                return .invalid(TokenError(.malformed, "unknown test token"))
            }
            return .granted(policy.grant(granted), expiresAt: Date(timeIntervalSinceNow: 60), stripPrefixes: [])
        }
        let awaited = awaited
        let known: MCPProxy.AuthenticateAtOnce = { header, policy in
            header == "Bearer slow" ? nil : (credential(header, policy), nil)
        }
        let proxy = MCPProxy(
            store: store,
            configuration: ProxyConfiguration(
                upstream: "http://127.0.0.1:\(target)/mcp",
                upstreamTimeout: upstreamPort == nil ? .seconds(10) : .seconds(2)),
            authenticate: { header, policy in
                awaited.increment()
                return credential(header, policy)
            },
            authenticateAtOnce: atOnce ? known : nil)
        let (port, task) = try await serveProxy(proxy)
        defer { task.cancel() }
        #expect(port > 0)
        try await body(port, log)
    }

    /// - client: the test's client; `HTTPClient.shared` follows redirects.
    func post(
        _ port: Int, _ body: String, token: String?, headers: [(String, String)] = [], client: HTTPClient = .shared
    ) async throws -> (status: Int, headers: [(String, String)], body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/mcp")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "MCP-Protocol-Version", value: "2025-11-25")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        return (Int(response.status.code), response.headers.map { ($0.name.lowercased(), $0.value) }, text)
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    static let call = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{}}}"#
    static let write = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{}}}"#
    static let list = #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#

    @Test func healthAndMetadata() async throws {
        try await withProxy { port, _ in
            #expect(try await get(port, "/healthz").0 == 200)
            let (status, body) = try await get(port, "/.well-known/oauth-protected-resource/mcp")
            #expect(status == 200)
            #expect(body.contains(#""resource":"https://mcp.example.com/mcp""#))
            #expect(try await get(port, "/other").0 == 404)
            // The public requirements document is opt-in (`resource.publish_requirements`): not linked, not served.
            #expect(!body.contains("requirements_uri"))
            #expect(try await get(port, "/.well-known/scopegate-requirements/mcp").0 == 404)
        }
    }

    @Test(arguments: [true, false]) func anAllowedCallReachesTheUpstreamWithoutTheClientsToken(atOnce: Bool)
        async throws
    {
        try await withProxy(atOnce: atOnce) { port, log in
            let response = try await post(port, Self.call, token: "reader")
            #expect(response.status == 200)
            #expect(response.body.contains(#""result""#))
            #expect(log.methods == ["tools/call"])
            #expect(log.authorizations.isEmpty)
            #expect(awaited.value == (atOnce ? 0 : 1))
        }
    }

    @Test(arguments: [true, false]) func refusalsAreAnsweredByTheProxyAndNeverForwarded(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, log in
            let none = try await post(port, Self.call, token: nil)
            #expect(none.status == 401)
            #expect(none.headers.contains { $0.0 == "www-authenticate" && $0.1.contains("resource_metadata=") })
            let denied = try await post(port, Self.write, token: "reader")
            #expect(denied.status == 403)
            #expect(denied.headers.contains { $0.0 == "www-authenticate" && $0.1.contains(#"scope="files:write""#) })
            let mismatch = try await post(port, Self.call, token: "reader", headers: [("Mcp-Name", "write_file")])
            #expect(mismatch.status == 400)
            #expect(mismatch.body.contains("-32020"))
            #expect(log.methods.isEmpty)
        }
    }

    @Test(arguments: [true, false]) func listsAreFilteredAsJSONAndAsSSE(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, _ in
            let json = try await post(port, Self.list, token: "reader", headers: [("Accept", "application/json")])
            #expect(json.status == 200)
            #expect(json.body.contains("read_file"))
            #expect(!json.body.contains("secret"))
            #expect(!json.body.contains("write_file"))
            #expect(json.body.contains(#""_meta":{"io.scopegate/requires":{"#))
            let sse = try await post(port, Self.list, token: "reader", headers: [("Accept", "text/event-stream")])
            #expect(sse.status == 200)
            #expect(sse.headers.contains { $0.0 == "x-accel-buffering" && $0.1 == "no" })
            #expect(sse.body.hasPrefix("data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\""))
            #expect(sse.body.contains("read_file"))
            #expect(!sse.body.contains("secret"))
        }
    }

    /// A list answered with a content type the proxy cannot filter is refused, never passed on unfiltered.
    @Test(arguments: [true, false]) func anUnfilterableListAnswerIs502(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, _ in
            let response = try await post(port, Self.list, token: "reader", headers: [("Accept", "text/plain")])
            #expect(response.status == 502)
            #expect(!response.body.contains("secret"))
            #expect(response.body.contains("-32004"))
        }
    }

    /// A redirect is the client's to follow: passed on as it came, and nothing is sent where it points.
    @Test(arguments: [true, false]) func anUpstreamRedirectIsPassedOnNotFollowed(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, log in
            // The proxy's own client is one that does not follow redirects either.
            let response = try await post(
                port, Self.call, token: "reader", headers: [("X-Test", "redirect")], client: HTTPUpstream.proxyClient)
            #expect(response.status == 307)
            #expect(response.headers.contains { $0.0 == "location" && $0.1 == "/elsewhere" })
            #expect(log.methods == ["tools/call"])
        }
    }

    /// The proxy asks the upstream for plain bytes (it reads list answers to filter them). A content coding the
    /// upstream applies anyway reaches the client with its bytes and its header unchanged; on a list answer,
    /// which cannot be filtered so, it is refused.
    @Test(arguments: [true, false]) func contentCodingsPassUnchangedAndAnEncodedListIsRefused(atOnce: Bool) async throws
    {
        try await withProxy(atOnce: atOnce) { port, log in
            let plain = try await post(port, Self.call, token: "reader", headers: [("Accept-Encoding", "gzip")])
            #expect(plain.status == 200)
            #expect(!plain.headers.contains { $0.0 == "content-encoding" })
            #expect(log.acceptEncodings.isEmpty)
            let encoded = try await post(port, Self.call, token: "reader", headers: [("X-Test", "encoded")])
            #expect(encoded.status == 200)
            #expect(encoded.headers.contains { $0.0 == "content-encoding" && $0.1 == "br" })
            #expect(encoded.body == "not plain bytes")
            let list = try await post(
                port, Self.list, token: "reader", headers: [("X-Test", "encoded"), ("Accept", "application/json")])
            #expect(list.status == 502)
            #expect(!list.body.contains("secret"))
            #expect(list.body.contains("-32004"))
        }
    }

    /// The upstream's challenges are not the client's: a 401 (the upstream refused the proxy's credential) becomes
    /// a 502, and no upstream `WWW-Authenticate` reaches the client.
    @Test(arguments: [true, false]) func anUpstreamsChallengeNeverReachesTheClient(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { port, log in
            let unauthorized = try await post(port, Self.call, token: "reader", headers: [("X-Test", "unauthorized")])
            #expect(unauthorized.status == 502)
            #expect(unauthorized.body.contains("-32004"))
            #expect(unauthorized.body.contains(#""reason":"upstream_unauthorized""#))
            #expect(!unauthorized.headers.contains { $0.0 == "www-authenticate" })
            let forbidden = try await post(port, Self.call, token: "reader", headers: [("X-Test", "forbidden")])
            #expect(forbidden.status == 403)
            #expect(forbidden.body.contains("upstream says no"))
            #expect(!forbidden.headers.contains { $0.0 == "www-authenticate" })
            #expect(log.methods == ["tools/call", "tools/call"])
        }
    }

    /// Port 1 on loopback: nothing listens (refused), or a filter drops it (the 2 s upstream deadline ends it).
    @Test(arguments: [true, false]) func anUnreachableUpstreamIs502(atOnce: Bool) async throws {
        try await withProxy(upstreamPort: 1, atOnce: atOnce) { port, _ in
            let response = try await post(port, Self.call, token: "reader")
            #expect(response.status == 502)
            #expect(response.body.contains("-32004"))
        }
    }
}
