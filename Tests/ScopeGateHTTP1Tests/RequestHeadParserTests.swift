import Testing

@testable import ScopeGateHTTP1

/// The gateways' request-head reader: what it accepts, what it refuses, and that a head arriving in pieces reads
/// the same as one arriving whole.
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

    /// The proxy's reader takes `chunked` alone, in any case, once; every other coding is 501, and a length next to
    /// it is 400 (the ambiguity request smuggling is made of).
    @Test func aReaderThatAcceptsChunkedBodiesTakesChunkedAlone() throws {
        let chunked = RequestHeadParser(maxHeadBytes: 1024, maxFields: 8, acceptsChunked: true)
        func outcome(_ text: String) -> RequestHeadParser.Outcome {
            var scanned = 0
            return Array(text.utf8).withUnsafeBytes { chunked.parse($0, scanned: &scanned) }
        }
        for encoding in ["chunked", "Chunked", " CHUNKED "] {
            guard case .head(let head, _) = outcome("POST /mcp HTTP/1.1\r\nTransfer-Encoding:\(encoding)\r\n\r\n")
            else {
                Issue.record("\(encoding) was not read")
                continue
            }
            #expect(head.chunked)
            #expect(head.contentLength == 0)
        }
        for encoding in ["gzip, chunked", "identity", "chunked, chunked", ""] {
            guard case .refused(let refusal) = outcome("POST /mcp HTTP/1.1\r\nTransfer-Encoding: \(encoding)\r\n\r\n")
            else {
                Issue.record("\(encoding) was read")
                continue
            }
            #expect(refusal.status == 501)
        }
        let twice = "POST /mcp HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        guard case .refused(let repeated) = outcome(twice) else {
            Issue.record("a repeated coding was read")
            return
        }
        #expect(repeated.status == 501)
        for order in [
            ("Content-Length: 3", "Transfer-Encoding: chunked"), ("Transfer-Encoding: chunked", "Content-Length: 3"),
        ] {
            guard case .refused(let both) = outcome("POST /mcp HTTP/1.1\r\n\(order.0)\r\n\(order.1)\r\n\r\n") else {
                Issue.record("both framings were read")
                continue
            }
            #expect(both.status == 400)
        }
        // A head without a coding reads as before, its length and all.
        guard case .head(let plain, _) = outcome("POST /mcp HTTP/1.1\r\nContent-Length: 3\r\n\r\n") else {
            Issue.record("a plain head was refused")
            return
        }
        #expect(!plain.chunked)
        #expect(plain.contentLength == 3)
    }

    /// A chunked body's trailer section: a bare CRLF, or field lines to an empty line, read with the head's caps.
    @Test func trailerSectionsAreReadAsFieldLines() {
        func trailers(_ text: String, parser: RequestHeadParser = RequestHeadParser(maxHeadBytes: 64, maxFields: 2))
            -> RequestHeadParser.TrailerOutcome
        {
            var scanned = 0
            return Array(text.utf8).withUnsafeBytes { parser.parseTrailers($0, scanned: &scanned) }
        }
        if case .fields(let fields, let length) = trailers("\r\nGET") {
            #expect(fields.isEmpty)
            #expect(length == 2)
        } else {
            Issue.record("a bare CRLF was not read")
        }
        if case .fields(let fields, let length) = trailers("X-Sum: 12 \r\nX-B:2\r\n\r\nnext") {
            #expect(fields.map(\.0) == ["X-Sum", "X-B"])
            #expect(fields.map(\.1) == ["12", "2"])
            #expect(length == "X-Sum: 12 \r\nX-B:2\r\n\r\n".utf8.count)
        } else {
            Issue.record("two trailer fields were not read")
        }
        for incomplete in ["", "\r", "X-Sum: 1\r\n", "X-Sum: 1\r\n\r"] {
            guard case .incomplete = trailers(incomplete) else {
                Issue.record("\(incomplete.debugDescription) is not incomplete")
                continue
            }
        }
        for refused in [
            "X Sum: 1\r\n\r\n", "X-Sum 1\r\n\r\n", "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n",
            "X-Long: " + String(repeating: "a", count: 80) + "\r\n\r\n",
        ] {
            guard case .refused = trailers(refused) else {
                Issue.record("\(refused.debugDescription) was not refused")
                continue
            }
        }
    }

    @Test func bytesAbove0x7FAreKeptInValues() throws {
        let (head, _) = try #require(read("GET / HTTP/1.1\r\nX-Name: caf\u{E9}\r\n\r\n"))
        #expect(head.fields.first?.1 == "caf\u{E9}")
    }
}
