import Foundation
import NIOCore
import NIOHTTP1
import ScopeGateHTTPTestSupport
import Testing

@testable import ScopeGateProxy

/// The connection's idle timeout and its request-head checks, whichever way its requests are answered: the
/// connection handler keeps the timeout for both (``ConnectionActivity``), as Hummingbird's own handler behind it
/// sees only the requests handed to it.
extension ProxyLimitTests {
    static func rawCall(_ tool: String, accept: String = "application/json", extra: String = "") -> String {
        let body = Self.call(tool)
        return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: \(accept)\r\n"
            + "MCP-Protocol-Version: 2025-11-25\r\nAuthorization: Bearer alice\r\n" + extra
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// A connection whose requests were answered, and that then says nothing, is closed once the idle timeout has
    /// passed, not before. (The timeout is generous: on a busy machine a test's short sleep can take seconds.)
    @Test(arguments: [true, false]) func anIdleConnectionIsClosedOnceItsTimeoutPasses(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce, idleTimeout: .seconds(4)) { h in
            let connection = try RawConnection(port: h.port, timeout: 30)
            var answered = ContinuousClock.now
            for _ in 0..<3 {
                try connection.send(Self.rawCall("json"))
                let (answer, closed) = await connection.read { $0.hasSuffix("}}") }
                answered = .now
                #expect(answer.hasPrefix("HTTP/1.1 200"))
                #expect(!closed)
                try await Task.sleep(for: .milliseconds(100))
            }
            let (rest, closed) = await connection.read()
            #expect(rest.isEmpty)
            #expect(closed)
            #expect(ContinuousClock.now - answered >= .seconds(3))  // 4 s after the answer left the proxy
        }
    }

    /// A request whose answer takes longer than the idle timeout (an event stream the upstream holds quiet) is
    /// not cut: the clock runs only while nothing is being answered.
    @Test(arguments: [true, false]) func anAnswerLongerThanTheIdleTimeoutIsNotCut(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce, idleTimeout: .seconds(1)) { h in
            let connection = try RawConnection(port: h.port, timeout: 10)
            try connection.send(Self.rawCall("quiet", accept: "application/json, text/event-stream"))
            try await Task.sleep(for: .milliseconds(2_500))
            h.release.set()
            let (answer, _) = await connection.read { $0.contains(#""result""#) }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(answer.contains(#""result":{"content":[]}"#))
        }
    }

    /// A head sent slower than the idle timeout allows (slowloris) is closed like an idle connection.
    @Test(arguments: [true, false]) func aHeadTrickledInIsClosedAtTheIdleTimeout(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce, idleTimeout: .seconds(1)) { h in
            let connection = try RawConnection(port: h.port, timeout: 10)
            try connection.send("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let started = ContinuousClock.now
            let (text, closed) = await connection.read()
            #expect(text.isEmpty)
            #expect(closed)
            #expect(ContinuousClock.now - started < .seconds(8))
            #expect(h.log.methods.isEmpty)
        }
    }

    /// A control character in a field value is refused by the HTTP/1 decoder (400) before either way sees the
    /// request: nothing is forwarded, and no field value the proxy writes upstream can hold one.
    @Test(arguments: [true, false]) func aControlCharacterInAFieldValueIsRefused(atOnce: Bool) async throws {
        try await withProxy(atOnce: atOnce) { h in
            let connection = try RawConnection(port: h.port)
            try connection.send(Self.rawCall("json", extra: "X-Note: a\u{01}b\r\n"))
            let (text, _) = await connection.read()
            #expect(text.hasPrefix("HTTP/1.1 400"))
            #expect(h.log.methods.isEmpty)
        }
    }
}

/// ``ConnectionActivity``'s rules, with the clock given.
struct ConnectionActivityTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let head = HTTPServerRequestPart.head(.init(version: .http1_1, method: .POST, uri: "/mcp"))

    @Test func idleIsMeasuredFromTheLastRequestPartOrAnswer() {
        var activity = ConnectionActivity(idleTimeout: .seconds(10), now: start)
        #expect(activity.check(now: start + .seconds(5)) == .checkAgain(at: start + .seconds(10)))
        #expect(activity.check(now: start + .seconds(10)) == .close)
        activity.read(head, now: start + .seconds(2))
        // Reading a request: still idle between its parts (a trickled head is closed).
        #expect(activity.check(now: start + .seconds(12)) == .close)
        activity.read(.end(nil), now: start + .seconds(3))
        // Answering: no idle close, however long.
        #expect(activity.check(now: start + .seconds(100)) == .wait)
        let after = activity.answered(now: start + .seconds(100))
        #expect(after == .checkIdle(at: start + .seconds(110)))
        #expect(activity.check(now: start + .seconds(105)) == .checkAgain(at: start + .seconds(110)))
        #expect(activity.check(now: start + .seconds(110)) == .close)
    }

    @Test func gracefulShutdownWaitsForTheLastAnswer() {
        var activity = ConnectionActivity(idleTimeout: nil, now: start)
        let idle = activity.quiesce()
        #expect(idle)  // idle: close now
        activity.read(head, now: start)
        activity.read(.end(nil), now: start)
        activity.read(head, now: start)
        let busy = activity.quiesce()
        #expect(!busy)
        let first = activity.answered(now: start)
        #expect(first == .carryOn)  // one answer still due
        let last = activity.answered(now: start)
        #expect(last == .close)
        // An answer to no request (a parse error's 400) changes nothing.
        let stray = activity.answered(now: start)
        #expect(stray == .close)
        #expect(activity.inProgress == 0)
    }

    @Test func withoutATimeoutNothingIsClosedForIdleness() {
        var activity = ConnectionActivity(idleTimeout: nil, now: start)
        #expect(activity.check(now: start + .seconds(1_000_000)) == .wait)
        activity.read(head, now: start)
        let after = activity.answered(now: start)
        #expect(after == .carryOn)
    }
}
