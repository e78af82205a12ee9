import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ScopeGateHTTPTestSupport
import Testing

@testable import ScopeGateProxy

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A request context that knows which client connection a request came on (its remote port).
struct ConnectionContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remotePort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remotePort = source.channel.remoteAddress?.port ?? 0
    }
}

/// What a test upstream saw: the client port of each request and its `Host`; and how many bytes of a streamed
/// answer it has written.
final class ConnectionLog: @unchecked Sendable {
    private let lock = NSLock()
    private var ports: [Int] = []
    private var hosts: [String] = []
    private var written = 0
    func record(port: Int, host: String?) {
        lock.withLock {
            ports.append(port)
            hosts.append(host ?? "")
        }
    }
    func wrote(_ count: Int) { lock.withLock { written += count } }
    var connections: Int { lock.withLock { Set(ports).count } }
    var requests: Int { lock.withLock { ports.count } }
    var lastHost: String { lock.withLock { hosts.last ?? "" } }
    var bytesWritten: Int { lock.withLock { written } }
}

/// `/close` answers with `Connection: close`; `/big?N` streams N chunks of 256 KiB; `/hang` answers after a
/// minute; anything else answers a short JSON body.
struct ConnectionUpstream: HTTPResponder {
    typealias Context = ConnectionContext
    let log: ConnectionLog
    static let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 256 << 10)

    func respond(to request: Request, context: ConnectionContext) async throws -> Response {
        log.record(port: context.remotePort, host: request.head.authority)
        switch request.uri.path {
        case "/close":
            return Response(
                status: .ok, headers: [.contentType: "application/json", .connection: "close"],
                body: .init(byteBuffer: ByteBuffer(string: "{}")))
        case "/hang":
            try await Task.sleep(for: .seconds(60))
            return Response(status: .ok)
        case "/big":
            let chunks = Int(request.uri.query ?? "") ?? 1
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: ResponseBody { writer in
                    for _ in 0..<chunks { try await writer.write(Self.chunk) }
                    try await writer.finish(nil)
                })
        default:
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
    }
}

func withConnectionUpstream(_ body: (Int, ConnectionLog) async throws -> Void) async throws {
    let log = ConnectionLog()
    let port = BoundPort()
    let app = Application(
        responder: ConnectionUpstream(log: log), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
    let task = Task { try await app.run() }
    defer { task.cancel() }
    for _ in 0..<400 where port.get == 0 { try await Task.sleep(for: .milliseconds(25)) }
    try await body(port.get, log)
}

/// The upstream timeout is set far beyond any answer here: it runs from before connecting, and in a full test run
/// a task can wait many seconds for a thread.
@Suite struct HTTP1UpstreamTests {
    static func post(_ upstream: HTTP1Upstream) async throws -> (Int, String) {
        let response = try await upstream.send(
            UpstreamRequest(method: "POST", headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}"))
        )
        var text = ""
        for try await chunk in response.body { text += String(buffer: chunk) }
        return (response.status, text)
    }

    @Test func onlyAbsoluteHTTPURLsAreTakenAndTheirHostAndTargetKept() throws {
        #expect(HTTP1Upstream(url: "https://example.com/mcp", timeout: .seconds(1)) == nil)
        #expect(HTTP1Upstream(url: "/mcp", timeout: .seconds(1)) == nil)
        #expect(HTTP1Upstream(url: "http://user:secret@example.com/mcp", timeout: .seconds(1)) == nil)
        let plain = try #require(HTTP1Upstream(url: "http://example.com", timeout: .seconds(1)))
        #expect(plain.hostHeader == "example.com")
        #expect(plain.target == "/")
        let literal = try #require(HTTP1Upstream(url: "http://[::1]:9000/a%20b/mcp?x=1", timeout: .seconds(1)))
        #expect(literal.hostHeader == "[::1]:9000")
        #expect(literal.target == "/a%20b/mcp?x=1")
        #expect(literal.pool.host == "::1")
        #expect(literal.pool.port == 9000)
    }

    @Test func sequentialRequestsShareOneConnectionAndNameTheHost() async throws {
        try await withConnectionUpstream { port, log in
            // An idle limit beyond the test's length: a task that waits seconds for a thread in a full test run
            // must not see its connection expire.
            let upstream = try #require(
                HTTP1Upstream(
                    url: "http://127.0.0.1:\(port)/mcp", timeout: .seconds(600), logger: Logger(label: "test"),
                    idleLimit: .seconds(3600)))
            for _ in 0..<5 {
                let (status, text) = try await Self.post(upstream)
                #expect(status == 200)
                #expect(text == #"{"ok":true}"#)
            }
            #expect(log.requests == 5)
            #expect(log.connections == 1)
            #expect(log.lastHost == "127.0.0.1:\(port)")
        }
    }

    @Test func aConnectionTheUpstreamClosesIsNotUsedAgain() async throws {
        try await withConnectionUpstream { port, log in
            let closing = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(port)/close", timeout: .seconds(600)))
            for _ in 0..<3 { #expect(try await Self.post(closing).0 == 200) }
            #expect(log.connections == 3)
        }
    }

    @Test func aBodyLeftUnreadEndsItsConnectionAndTheNextRequestIsServed() async throws {
        try await withConnectionUpstream { port, log in
            let big = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(port)/big?64", timeout: .seconds(600)))
            do {
                let response = try await big.send(UpstreamRequest(method: "GET", headers: [:], body: ByteBuffer()))
                var iterator = response.body.makeAsyncIterator()
                #expect(try await iterator.next() != nil)
            }
            // The unread rest would come before the next answer on that connection: it is closed instead.
            let (status, text) = try await Self.post(big)
            #expect(status == 200)
            #expect(text.utf8.count == 64 * ConnectionUpstream.chunk.readableBytes)
            #expect(log.connections == 2)
        }
    }

    /// The upstream writes 128 MiB with blocking `send`, so what it has written is what the kernel took: the
    /// socket buffers (tens of MiB on loopback at most) and what the proxy read from them. Without back-pressure
    /// the proxy would read it all in well under a second.
    @Test func aSlowReaderHoldsTheUpstreamBack() async throws {
        let total = 128 << 20
        let sent = ConnectionLog()
        let listener = try OneRequestListener { client in
            let head = Array("HTTP/1.1 200 OK\r\nContent-Length: \(total)\r\nConnection: close\r\n\r\n".utf8)
            _ = head.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 256 << 10)
            var written = 0
            while written < total {
                let n = chunk.withUnsafeBytes { send(client, $0.baseAddress, min($0.count, total - written), 0) }
                guard n > 0 else { return }
                written += n
                sent.wrote(n)
            }
        }
        let upstream = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(listener.port)/", timeout: .seconds(600)))
        let response = try await upstream.send(UpstreamRequest(method: "GET", headers: [:], body: ByteBuffer()))
        var iterator = response.body.makeAsyncIterator()
        var read = try await iterator.next()?.readableBytes ?? 0
        try await Task.sleep(for: .seconds(1))
        let stalled = sent.bytesWritten
        try await Task.sleep(for: .seconds(1))
        #expect(stalled < total / 2)
        #expect(sent.bytesWritten == stalled)
        while let chunk = try await iterator.next() { read += chunk.readableBytes }
        #expect(read == total)
    }

    @Test func anIdleConnectionIsClosedOnceItsIdleLimitPasses() async throws {
        try await withConnectionUpstream { port, log in
            let pool = UpstreamConnectionPool(host: "127.0.0.1", port: port, idleLimit: .seconds(3600))
            let request = try #require(
                UpstreamRequestBytes(
                    method: .GET, target: "/mcp", host: "127.0.0.1:\(port)", fields: [(String, String)](),
                    authorization: nil,
                    body: ByteBuffer()))
            func call() async throws {
                let answer = try await pool.exchange(request, deadline: .now() + .seconds(600), on: nil).get()
                for try await _ in answer.body {}
            }
            try await call()
            #expect(pool.idleCount == 1)
            pool.closeExpired()  // what the sweep does every second; the connection is not yet an hour idle
            #expect(pool.idleCount == 1)
            pool.closeExpired(now: .now() + .seconds(3601))
            #expect(pool.idleCount == 0)
            try await call()
            #expect(log.connections == 2)
        }
    }

    /// A connection keeps one pending check of the head's deadline, set by an earlier exchange on it: an exchange
    /// with an earlier deadline than that check still times out at its own, and one with a later deadline is not
    /// failed at the earlier check's.
    @Test(.timeLimit(.minutes(1))) func anExchangeOnAReusedConnectionTimesOutAtItsOwnDeadline() async throws {
        try await withConnectionUpstream { port, log in
            let pool = UpstreamConnectionPool(host: "127.0.0.1", port: port, idleLimit: .seconds(3600))
            func request(_ target: String) throws -> UpstreamRequestBytes {
                try #require(
                    UpstreamRequestBytes(
                        method: .GET, target: target, host: "127.0.0.1:\(port)", fields: [(String, String)](),
                        authorization: nil, body: ByteBuffer()))
            }
            func timedOut(_ target: String, within timeout: TimeAmount) async throws -> Duration {
                let started = ContinuousClock.now
                do {
                    _ = try await pool.exchange(request(target), deadline: .now() + timeout, on: nil).get()
                    Issue.record("\(target) was answered")
                } catch {
                    #expect((error as? UpstreamExchangeHandler.Failure) == .timedOut)
                }
                return ContinuousClock.now - started
            }
            func answered(within timeout: TimeAmount) async throws {
                let answer = try await pool.exchange(request("/mcp"), deadline: .now() + timeout, on: nil).get()
                for try await _ in answer.body {}
                #expect(pool.idleCount == 1)
            }
            // A check set for 10 minutes; the exchange after it must fail at its own 1 s.
            try await answered(within: .seconds(600))
            let early = try await timedOut("/hang", within: .seconds(1))
            #expect(early >= .milliseconds(900))
            // A check set for 1 s; the exchange after it (on a new connection, the last one failed) waits 3 s.
            try await answered(within: .seconds(1))
            let late = try await timedOut("/hang", within: .seconds(3))
            #expect(late >= .milliseconds(2900))
            #expect(log.connections == 2)
        }
    }

    /// An upstream that answers bytes that are not HTTP fails the exchange (the proxy answers 502), and one that
    /// ends a body short of its `Content-Length` fails the body, not the proxy.
    @Test func malformedAndTruncatedAnswersFailTheExchange() async throws {
        let garbage = try OneRequestListener { client in
            let bytes = Array("SSH-2.0-OpenSSH_9.2\r\n\r\nnot http at all\r\n\r\n".utf8)
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        }
        let confused = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(garbage.port)/", timeout: .seconds(600)))
        let failure = await #expect(throws: UpstreamFailure.self) { _ = try await Self.post(confused) }
        #expect(failure?.code == .unreachable)

        let short = try OneRequestListener { client in
            let bytes = Array(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\"".utf8)
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        }
        let cut = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(short.port)/", timeout: .seconds(600)))
        await #expect(throws: (any Error).self) { _ = try await Self.post(cut) }
    }

    /// The request goes out as one head the proxy writes: request line, `Host`, the client's fields that pass
    /// (``ProxyHeaders``), the upstream credential, `Content-Length`; then the body.
    @Test func theRequestIsWrittenAsTheUpstreamReadsIt() async throws {
        let listener = try OneRequestListener { client in
            let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".utf8)
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
        }
        let upstream = try #require(
            HTTP1Upstream(url: "http://127.0.0.1:\(listener.port)/mcp?x=1", timeout: .seconds(600)))
        let response = try await upstream.send(
            UpstreamRequest(
                method: "POST",
                headers: [.contentType: "application/json", .authorization: "Bearer client", .connection: "x-hop"],
                body: ByteBuffer(string: "{}"), authorization: "Bearer upstream"))
        #expect(response.status == 200)
        #expect(
            listener.head()
                == "POST /mcp?x=1 HTTP/1.1\r\nHost: 127.0.0.1:\(listener.port)\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer upstream\r\nContent-Length: 2\r\n\r\n{}")
    }

    /// A credential with a line break would end the head early and smuggle fields in: nothing is sent, and the
    /// request fails as an unreachable upstream does (502).
    @Test func aCredentialWithAControlCharacterIsNotSent() async throws {
        let upstream = try #require(HTTP1Upstream(url: "http://127.0.0.1:1/mcp", timeout: .seconds(600)))
        for credential in ["Bearer a\r\nX-Injected: 1", "Bearer a\nb", "Bearer \u{0}"] {
            await #expect(throws: UpstreamFailure.self) {
                _ = try await upstream.send(
                    UpstreamRequest(method: "POST", headers: [:], body: ByteBuffer(), authorization: credential))
            }
        }
        #expect(
            UpstreamRequestBytes(
                method: .GET, target: "/", host: "a\r\nb", fields: [(String, String)](), authorization: nil,
                body: ByteBuffer()) == nil)
    }

    /// The answer to `HEAD` has no body whatever its `Content-Length` says: the response decoder is told of each
    /// request's method, so the exchange ends at the head instead of waiting for bytes that never come.
    @Test(.timeLimit(.minutes(1))) func theAnswerToHEADEndsAtItsHead() async throws {
        let listener = try OneRequestListener { client in
            let head = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n".utf8)
            _ = head.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
            Thread.sleep(forTimeInterval: 20)  // the connection stays open: a body would have to be waited for
        }
        let upstream = try #require(HTTP1Upstream(url: "http://127.0.0.1:\(listener.port)/", timeout: .seconds(600)))
        let started = ContinuousClock.now
        let response = try await upstream.send(UpstreamRequest(method: "HEAD", headers: [:], body: ByteBuffer()))
        var bytes = 0
        for try await chunk in response.body { bytes += chunk.readableBytes }
        #expect(response.status == 200)
        #expect(bytes == 0)
        #expect(ContinuousClock.now - started < .seconds(15))  // far less than the 20 s a body wait would take
        #expect(listener.head().hasPrefix("HEAD / HTTP/1.1\r\n"))
    }

    @Test func nothingListeningIsUnreachable() async throws {
        let upstream = try #require(HTTP1Upstream(url: "http://127.0.0.1:1/mcp", timeout: .seconds(600)))
        await #expect(throws: UpstreamFailure(.unreachable, "the upstream MCP server is unavailable")) {
            _ = try await Self.post(upstream)
        }
    }
}
