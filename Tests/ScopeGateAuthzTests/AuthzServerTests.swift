import Foundation
import NIOCore
import ScopeGate
import ScopeGateAuthz
import ScopeGateHTTPTestSupport
import ScopeGateRequestAuthorization
import Testing

/// What the decision service's own HTTP server does around the service's answers: keep-alive and pipelining,
/// HTTP/1.0, `HEAD`, the idle timeout, and draining on shutdown. Raw connections, because an HTTP client library
/// hides exactly these.
@Suite struct AuthzServerTests {
    /// A service whose tokens are answered at once (as cached tokens are), so every answer is written on the
    /// connection's event loop.
    func service(authenticate: @escaping AuthzService.Authenticate = testAuthenticate) throws -> AuthzService {
        AuthzService(
            store: try testStore(), configuration: AuthzConfiguration(), authenticate: authenticate,
            authenticateAtOnce: testAuthenticateAtOnce)
    }

    static let decision =
        "GET /authz HTTP/1.1\r\nHost: authz\r\nX-Original-Method: POST\r\nMCP-Protocol-Version: 2026-07-28\r\n"
        + "Mcp-Method: tools/call\r\nMcp-Name: read_file\r\nAuthorization: Bearer admin\r\n\r\n"

    @Test func pipelinedRequestsOnOneConnectionAreAnsweredInOrder() async throws {
        try await withAuthzServer(try service()) { port in
            let connection = try RawConnection(port: port)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: authz\r\n\r\n" + Self.decision)
            let (text, closed) = await connection.read {
                $0.occurrences(of: "HTTP/1.1 200 OK") == 2 && $0.hasSuffix("\r\n\r\n")
            }
            #expect(!closed)
            let answers = text.components(separatedBy: "HTTP/1.1 200 OK").dropFirst()
            #expect(answers.count == 2)
            #expect(answers.first?.hasSuffix("ok\n") == true)
            #expect(answers.last?.contains("X-ScopeGate-Subject: user-admin") == true)
            #expect(answers.last?.contains("Content-Length: 0") == true)
            // The connection stays open for the next request.
            try connection.send(Self.decision)
            #expect(await connection.read { $0.hasSuffix("\r\n\r\n") }.text.hasPrefix("HTTP/1.1 200 OK"))
        }
    }

    /// A body is read by its `Content-Length`, however it arrives: here in two writes, the second carrying the
    /// next pipelined request too. A request whose token needs a task holds the ones after it, which are answered
    /// in order once it is.
    @Test func bodiesArrivingInPiecesAndSlowAnswersKeepTheOrder() async throws {
        try await withAuthzServer(try service()) { port in
            let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{}}}"#
            let post = Self.decision.replacingOccurrences(
                of: "\r\n\r\n", with: "\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            let slow = Self.decision.replacingOccurrences(of: "Bearer admin", with: "Bearer unknown")
            let connection = try RawConnection(port: port)
            try connection.send(post + body.prefix(20))
            try await Task.sleep(for: .milliseconds(100))
            try connection.send(body.dropFirst(20) + slow + "GET /healthz HTTP/1.1\r\nHost: authz\r\n\r\n")
            let (text, closed) = await connection.read {
                $0.occurrences(of: "HTTP/1.1 ") == 3 && $0.hasSuffix("ok\n")
            }
            #expect(!closed)
            let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
            #expect(statuses == ["200", "401", "200"], "\(text.debugDescription)")
        }
    }

    /// A body sent without `Content-Length` (chunked) is refused with 411 and the connection closed.
    @Test func aChunkedBodyIs411AndClosed() async throws {
        try await withAuthzServer(try service()) { port in
            let connection = try RawConnection(port: port)
            try connection.send(
                "POST /authz HTTP/1.1\r\nHost: authz\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            let (text, closed) = await connection.read()
            #expect(text.hasPrefix("HTTP/1.1 411 Length Required"), "\(text.prefix(200))")
            #expect(closed)
        }
    }

    @Test func anHTTP10RequestIsAnsweredAndClosed() async throws {
        try await withAuthzServer(try service()) { port in
            let connection = try RawConnection(port: port)
            try connection.send("GET /healthz HTTP/1.0\r\n\r\n")
            let (text, closed) = await connection.read()
            #expect(closed)
            #expect(text.hasPrefix("HTTP/1.0 200 OK"))
            #expect(text.contains("Connection: close"))
            #expect(text.hasSuffix("\r\n\r\nok\n"))
        }
    }

    /// A `HEAD` answer has the `GET` answer's length and no body, so the next answer on the connection parses.
    @Test func aHeadAnswerHasNoBody() async throws {
        try await withAuthzServer(try service()) { port in
            let connection = try RawConnection(port: port)
            try connection.send(
                "HEAD /healthz HTTP/1.1\r\nHost: authz\r\n\r\nGET /healthz HTTP/1.1\r\nHost: authz\r\n\r\n")
            let (text, _) = await connection.read { $0.occurrences(of: "HTTP/1.1 200 OK") == 2 && $0.hasSuffix("ok\n") }
            let answers = text.components(separatedBy: "HTTP/1.1 200 OK").dropFirst()
            #expect(answers.count == 2)
            #expect(answers.first?.contains("Content-Length: 3") == true)
            #expect(answers.first?.hasSuffix("\r\n\r\n") == true)
            #expect(answers.last?.hasSuffix("\r\n\r\nok\n") == true)
        }
    }

    /// What is not HTTP, or a head over the parser's caps, is refused with 400 and the connection closed:
    /// never a decision, never an allow.
    @Test(arguments: [
        "NOT HTTP AT ALL\r\n\r\n",
        "GET /authz HTTP/1.1\r\nHost: authz\r\nX-Padding: \(String(repeating: "x", count: 200 << 10))\r\n\r\n",
    ])
    func unparsableRequestsAre400AndClosed(request: String) async throws {
        try await withAuthzServer(try service()) { port in
            let connection = try RawConnection(port: port)
            try connection.send(request)
            let (text, closed) = await connection.read()
            #expect(text.hasPrefix("HTTP/1.1 400"), "\(text.prefix(200))")
            #expect(closed)
        }
    }

    /// A client that stops in the middle of its head (slowloris) is closed after the idle timeout.
    @Test func aConnectionIdleMidHeadIsClosed() async throws {
        try await withAuthzServer(try service(), idleTimeout: .milliseconds(300)) { port in
            let connection = try RawConnection(port: port, timeout: 10)
            try connection.send("GET /healthz HTTP/1.1\r\nHost: authz\r\n")
            let (text, closed) = await connection.read()
            #expect(closed)
            #expect(text.isEmpty)
        }
    }

    /// On shutdown the server stops accepting, answers the request in flight (saying `Connection: close`), and
    /// then closes its connection.
    @Test func shutdownAnswersTheRequestInFlight() async throws {
        let entered = AsyncStream<Void>.makeStream()
        // An uncached token: the slow path runs, and takes its time.
        let slow: AuthzService.Authenticate = { header, policy in
            entered.continuation.yield()
            try? await Task.sleep(for: .milliseconds(300))
            return await testAuthenticate(header, policy)
        }
        let service = AuthzService(store: try testStore(), configuration: AuthzConfiguration(), authenticate: slow)
        let (port, task) = try await startAuthzServer(service)
        let connection = try RawConnection(port: port, timeout: 10)
        try connection.send(Self.decision)
        var signals = entered.stream.makeAsyncIterator()
        _ = await signals.next()  // the request is being decided
        task.cancel()
        let (text, closed) = await connection.read()
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.lowercased().contains("connection: close"))
        #expect(closed)
        _ = await task.result
        #expect(throws: RawConnection.Failure.self) { try RawConnection(port: port) }
    }
}
