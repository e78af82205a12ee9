import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateAsyncHTTPClient
import ScopeGateHTTPTestSupport
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTesting
import ScopeGateTokens
import Testing

/// What an HTTP upstream or a token endpoint received.
final class Received: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(body: String, headers: [String: String])] = []
    func record(_ body: String, _ headers: [String: String]) { lock.withLock { entries.append((body, headers)) } }
    var bodies: [String] { lock.withLock { entries.map(\.body) } }
    func header(_ name: String) -> [String?] { lock.withLock { entries.map { $0.headers[name] } } }

    /// Reads `request`'s body (up to `limit` bytes) and records it with the request's headers, by canonical name,
    /// and `extra` entries; returns the body.
    func record(_ request: Request, limit: Int = 1 << 20, extra: [String: String] = [:]) async throws -> String {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: limit))
        var headers = extra
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        record(body, headers)
        return body
    }
}

/// A Streamable HTTP MCP server that records every request and opens a session on `initialize`.
struct RecordingUpstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let received: Received

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        let body = try await received.record(request)
        var fields: HTTPFields = [.contentType: "application/json"]
        if body.contains("\"initialize\"") {
            fields[HTTPFields.Element.Name("Mcp-Session-Id")!] = "upstream-session-\(UUID().uuidString)"
        }
        return Response(
            status: .ok, headers: fields,
            body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)))
    }
}

/// An RFC 8693 token endpoint: issues `exchanged-for-<subject_token>`.
struct TokenEndpoint: HTTPResponder {
    typealias Context = BasicRequestContext
    let received: Received

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 1 << 16))
        received.record(body, ["authorization": request.headers[.authorization] ?? ""])
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == TokenExchanger.grantType, let subject = form["subject_token"] else {
            return Response(
                status: .badRequest, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_request"}"#)))
        }
        let answer =
            #"{"access_token":"exchanged-for-\#(subject)","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":300}"#
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: answer)))
    }
}

@Suite(.serialized) struct UpstreamCredentialTests {
    func policy(tokenEndpoint: Int) -> String {
        GatewayTestPolicy.head + "\n"
            + """
            tokens:
              issuers:
                - issuer: https://auth.example.com
                  jwks_uri: https://auth.example.com/jwks.json
                  exchange: { endpoint: "http://127.0.0.1:\(tokenEndpoint)/token", client_id: gateway, client_secret_env: EXCHANGE_SECRET }
            scopes:
              files:read: { risk: low }
              files:write: { implies: [files:read] }
            tools:
              read_file: files:read
              write_file:
                requires: files:write
                downstream: { audience: "https://files.example.com", scopes: ["files:write"] }
            """
    }

    /// Runs a proxy in front of a recording HTTP upstream; `upstreamAuthorization` is the static credential.
    func withHTTPProxy(
        upstreamAuthorization: String? = nil, _ body: (Int, Received, Received) async throws -> Void
    ) async throws {
        let upstreamLog = Received()
        let tokenLog = Received()
        let (up, upTask) = try await serveOnLoopback(RecordingUpstream(received: upstreamLog))
        defer { upTask.cancel() }
        let (tokenPort, tokenTask) = try await serveOnLoopback(TokenEndpoint(received: tokenLog))
        defer { tokenTask.cancel() }
        let compiled = try PolicyCompiler(options: LoadOptions(environment: [:]))
            .compile(source: policy(tokenEndpoint: tokenPort)).compiled()
        var configuration = ProxyConfiguration(upstream: "http://127.0.0.1:\(up)/mcp", upstreamTimeout: .seconds(10))
        configuration.upstreamAuthorization = upstreamAuthorization
        let proxy = MCPProxy(
            store: PolicyStore(initial: compiled), configuration: configuration,
            authenticate: { header, policy in testCredential(header, policy) },
            identify: { header, policy in testIdentity(header, policy) },
            exchangers: TokenExchangers(fetcher: AsyncHTTPClientFetcher(), environment: ["EXCHANGE_SECRET": "s3cret"]))
        let (port, task) = try await serveProxy(proxy)
        defer { task.cancel() }
        try await body(port, upstreamLog, tokenLog)
    }

    static let read = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{}}}"#
    static let write = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file","arguments":{}}}"#

    @Test func theUpstreamGetsTheStaticCredentialAndNeverTheClientsToken() async throws {
        try await withHTTPProxy(upstreamAuthorization: "Bearer static-upstream-secret") { port, upstream, _ in
            let response = try await sendMCP(port, Self.read, token: "alice")
            #expect(response.status == 200)
            #expect(upstream.header("authorization") == ["Bearer static-upstream-secret"])
        }
    }

    @Test func withoutACredentialTheUpstreamGetsNoAuthorization() async throws {
        try await withHTTPProxy { port, upstream, _ in
            let response = try await sendMCP(port, Self.read, token: "alice")
            #expect(response.status == 200)
            #expect(upstream.header("authorization") == [nil])
        }
    }

    @Test func aDownstreamToolGetsAnExchangedToken() async throws {
        try await withHTTPProxy(upstreamAuthorization: "Bearer static-upstream-secret") { port, upstream, tokens in
            let response = try await sendMCP(port, Self.write, token: "writer")
            #expect(response.status == 200)
            #expect(upstream.header("authorization") == ["Bearer exchanged-for-writer"])
            let form = try #require(tokens.bodies.first)
            #expect(form.contains("subject_token=writer"))
            #expect(form.contains("audience=https%3A%2F%2Ffiles.example.com"))
            #expect(tokens.header("authorization").first??.hasPrefix("Basic ") == true)
            // The client's token went to the token endpoint only, never upstream.
            #expect(!upstream.header("authorization").contains("Bearer writer"))
        }
    }

    @Test func aFailedExchangeIs502AndNothingIsForwarded() async throws {
        // No secret in the exchangers' environment: the exchange fails before any request.
        let compiled = try PolicyCompiler(options: LoadOptions(environment: [:]))
            .compile(source: policy(tokenEndpoint: 1)).compiled()
        let upstreamLog = Received()
        let (up, upTask) = try await serveOnLoopback(RecordingUpstream(received: upstreamLog))
        defer { upTask.cancel() }
        let proxy = MCPProxy(
            store: PolicyStore(initial: compiled),
            configuration: ProxyConfiguration(upstream: "http://127.0.0.1:\(up)/mcp", upstreamTimeout: .seconds(10)),
            authenticate: { header, policy in testCredential(header, policy) },
            identify: { header, policy in testIdentity(header, policy) },
            exchangers: TokenExchangers(fetcher: AsyncHTTPClientFetcher(), environment: [:]))
        let (port, task) = try await serveProxy(proxy)
        defer { task.cancel() }
        let response = try await sendMCP(port, Self.write, token: "writer")
        #expect(response.status == 502)
        #expect(response.body.contains("token_exchange_failed"))
        #expect(response.body.contains("exchange.not_configured"))
        #expect(upstreamLog.bodies.isEmpty)
    }

    @Test func aSessionIsBoundToThePrincipalThatOpenedIt() async throws {
        try await withHTTPProxy { port, upstream, _ in
            let initialize =
                #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#
            let opened = try await sendMCP(port, initialize, token: "alice")
            #expect(opened.status == 200)
            let session = try #require(opened.headers["mcp-session-id"])
            #expect(
                try await sendMCP(port, Self.read, token: "alice", headers: [("Mcp-Session-Id", session)]).status == 200
            )
            let hijack = try await sendMCP(port, Self.read, token: "mallory", headers: [("Mcp-Session-Id", session)])
            #expect(hijack.status == 404)
            #expect(hijack.body.contains("-32005"))
            let forged = try await sendMCP(port, Self.read, token: "alice", headers: [("Mcp-Session-Id", "forged")])
            #expect(forged.status == 404)
            // Only the initialize and alice's call reached the upstream.
            #expect(upstream.bodies.count == 2)
            #expect(
                try await sendMCP(port, nil, token: "alice", method: "DELETE", headers: [("Mcp-Session-Id", session)])
                    .status == 200)
            #expect(
                try await sendMCP(port, Self.read, token: "alice", headers: [("Mcp-Session-Id", session)]).status == 404
            )
        }
    }
}

@Suite struct SessionTableTests {
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var time = Date(timeIntervalSince1970: 1_000_000)
        func advance(_ seconds: TimeInterval) { lock.withLock { time += seconds } }
        var now: Date { lock.withLock { time } }
    }

    @Test func aSessionServesOnlyItsPrincipalAndExpiresWhenIdle() {
        let clock = Clock()
        let table = SessionTable(capacity: 10, idleTimeout: 60, now: { clock.now })
        let alice = VerifiedToken.principal(issuer: "https://a", subject: "alice", clientID: nil)
        let bob = VerifiedToken.principal(issuer: "https://a", subject: "bob", clientID: nil)
        #expect(table.bind("s1", to: alice))
        #expect(!table.bind("s1", to: bob))
        #expect(table.use("s1", by: alice))
        #expect(!table.use("s1", by: bob))
        clock.advance(59)
        #expect(table.use("s1", by: alice))
        clock.advance(61)
        #expect(!table.use("s1", by: alice))
        #expect(table.count == 0)
    }

    @Test func aFullTableForgetsTheLeastRecentlyUsed() {
        let clock = Clock()
        let table = SessionTable(capacity: 2, idleTimeout: 3600, now: { clock.now })
        table.bind("a", to: "p")
        clock.advance(1)
        table.bind("b", to: "p")
        clock.advance(1)
        #expect(table.use("a", by: "p"))
        clock.advance(1)
        table.bind("c", to: "p")
        #expect(table.count == 2)
        #expect(table.use("a", by: "p"))
        #expect(!table.use("b", by: "p"))
        #expect(table.use("c", by: "p"))
    }

    @Test func principalsOfDifferentIssuersDiffer() {
        #expect(
            VerifiedToken.principal(issuer: "https://a", subject: "x", clientID: nil)
                != VerifiedToken.principal(issuer: "https://b", subject: "x", clientID: nil))
        #expect(
            VerifiedToken.principal(issuer: "https://a", subject: nil, clientID: "x")
                != VerifiedToken.principal(issuer: "https://a", subject: "x", clientID: nil))
    }
}
