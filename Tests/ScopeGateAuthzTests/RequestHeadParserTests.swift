import NIOCore
import Testing

@testable import ScopeGateAuthz

/// The decision service's request-head reader and answer writer: what they accept, what they refuse, and that a
/// head arriving in pieces reads the same as one arriving whole.
@Suite struct RequestHeadParserTests {
    let parser = RequestHeadParser(maxHeadBytes: 1024, maxFields: 8)

    func parse(_ text: String) -> RequestHeadParser.Outcome {
        var scanned = 0
        return Array(text.utf8).withUnsafeBytes { parser.parse($0, scanned: &scanned) }
    }

    func read(_ text: String) -> (RequestHeadParser.Head, Int)? {
        if case .head(let head, let length) = parse(text) { return (head, length) }
        return nil
    }

    func refusal(_ text: String) -> RequestHeadParser.Refusal? {
        if case .refused(let refusal) = parse(text) { return refusal }
        return nil
    }

    @Test func aWellFormedHeadIsReadWithItsFieldsInOrder() throws {
        let text =
            "POST /authz/mcp?x=1 HTTP/1.1\r\nHost: authz\r\nMcp-Name:  spend \t\r\nContent-Length: 12\r\n\r\nbody"
        let (head, length) = try #require(read(text))
        #expect(head.method == "POST")
        #expect(head.target == "/authz/mcp?x=1")
        #expect(head.minorVersion == 1)
        #expect(head.fields.map(\.0) == ["Host", "Mcp-Name", "Content-Length"])
        #expect(head.fields.map(\.1) == ["authz", "spend", "12"])
        #expect(head.contentLength == 12)
        #expect(head.keepAlive)
        #expect(length == text.utf8.count - 4)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false),
    ])
    func keepAliveFollowsTheVersionAndConnection(text: String, keepAlive: Bool) throws {
        #expect(try #require(read(text)).0.keepAlive == keepAlive)
    }

    /// A head sent a byte at a time is incomplete until its last byte, then reads as it would whole; the search
    /// for its end resumes where it stopped.
    @Test func aHeadArrivingByteByByteReadsAsAWholeOne() throws {
        let text = "\r\nGET /healthz HTTP/1.1\r\nHost: authz\r\nX-A: 1\r\n\r\n"
        let bytes = Array(text.utf8)
        var scanned = 0
        for end in 1..<bytes.count {
            let outcome = bytes[..<end].withUnsafeBytes { parser.parse($0, scanned: &scanned) }
            guard case .incomplete = outcome else {
                Issue.record("complete after \(end) of \(bytes.count) bytes")
                return
            }
        }
        let outcome = bytes.withUnsafeBytes { parser.parse($0, scanned: &scanned) }
        guard case .head(let head, let length) = outcome else {
            Issue.record("not read: \(outcome)")
            return
        }
        #expect(head.target == "/healthz")
        #expect(head.fields.map(\.0) == ["Host", "X-A"])
        #expect(length == bytes.count)
    }

    /// Anything outside the strict grammar is refused with 400, never read as a request.
    @Test(arguments: [
        "GET  / HTTP/1.1\r\n\r\n",  // two spaces
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.1 x\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET /a\u{7F}b HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",  // a bare LF
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",  // space before the colon
        "GET / HTTP/1.1\r\nHost a\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\r\n folded\r\n\r\n",  // obs-fold
        "GET / HTTP/1.1\r\nX-A: a\u{01}b\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 5a\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n",
        "GET / HTTP/1.1\r\n" + String(repeating: "X: 1\r\n", count: 9) + "\r\n",  // over maxFields
        "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1100) + "\r\n\r\n",  // over maxHeadBytes, complete
        "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 1100),  // over maxHeadBytes, incomplete
    ])
    func malformedHeadsAre400(text: String) {
        #expect(refusal(text)?.status == 400, "\(text.debugDescription)")
    }

    @Test(arguments: ["chunked", "gzip, chunked", "identity"])
    func aBodyWithoutContentLengthIs411(encoding: String) {
        #expect(refusal("POST /authz HTTP/1.1\r\nTransfer-Encoding: \(encoding)\r\n\r\n")?.status == 411)
    }

    @Test func bytesAbove0x7FAreKeptInValues() throws {
        let (head, _) = try #require(read("GET / HTTP/1.1\r\nX-Name: caf\u{E9}\r\n\r\n"))
        #expect(head.fields.first?.1 == "caf\u{E9}")
    }

    @Test func anAnswerWithAHeaderThatWouldSplitTheResponseIsA500() {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        let answer = AuthzHTTPAnswer(status: 200, headers: [("X-ScopeGate-Subject", "a\r\nSet-Cookie: x=1")])
        AnswerWriter.write(answer, minorVersion: 1, keepAlive: true, withBody: true, into: &buffer)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
        #expect(!text.contains("Set-Cookie"))
    }

    @Test func anAnswerSaysItsLengthAndConnection() {
        var buffer = ByteBufferAllocator().buffer(capacity: 128)
        let answer = AuthzHTTPAnswer(status: 403, headers: [("X-ScopeGate-Reason", "missing_scope")], body: [1, 2])
        AnswerWriter.write(answer, minorVersion: 0, keepAlive: true, withBody: false, into: &buffer)
        #expect(
            String(buffer: buffer)
                == "HTTP/1.0 403 Forbidden\r\nServer: scopegate\r\nX-ScopeGate-Reason: missing_scope\r\n"
                + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\n")
    }
}
