import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ScopeGateHTTP1

/// The proxy's request decoder against SwiftNIO's, which it replaced: on well-formed requests, whole or in pieces of
/// any size, both read the same parts, but for one difference: ScopeGate's drops the blanks after a field value, as
/// RFC 9110 §5.5 says (they are not part of the value), where SwiftNIO's keeps them. What ScopeGate's refuses, it
/// refuses with an `HTTPParserError` (answered 400) before the refused request's end is passed on.
@Suite struct HTTP1RequestDecoderTests {

    /// What a decoder read from `bytes`, given to it in pieces of `piece` bytes: each part as text (consecutive body
    /// parts joined, since decoders may cut a body differently), and the error it threw, if any. `finish` ends the
    /// connection after the last piece.
    static func read(_ bytes: [UInt8], piece: Int, ours: Bool, finish: Bool = false) -> (parts: [String], error: Error?)
    {
        func value(_ text: String) -> String {
            String(decoding: text.utf8.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed(), as: UTF8.self)
        }
        let channel = EmbeddedChannel()
        var parts: [String] = []
        var failure: Error?
        func collect() {
            while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
                switch part {
                case .head(let head):
                    let fields = head.headers.map { "\($0.name): \(value($0.value))" }.joined(separator: "|")
                    parts.append("head \(head.method.rawValue) \(head.uri) \(head.version) [\(fields)]")
                case .body(let body):
                    let text = String(buffer: body)
                    if let last = parts.last, last.hasPrefix("body ") {
                        parts[parts.count - 1] = last + text
                    } else {
                        parts.append("body " + text)
                    }
                case .end(let trailers):
                    let fields = trailers.map { $0.map { "\($0.name): \(value($0.value))" }.joined(separator: "|") }
                    parts.append("end [\(fields ?? "")]")
                }
            }
        }
        do {
            if ours {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(HTTP1RequestDecoder(maxHeadBytes: 2048, maxFields: 16)))
            } else {
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            }
            var start = 0
            while start < bytes.count {
                let end = min(start + piece, bytes.count)
                try channel.writeInbound(ByteBuffer(bytes: bytes[start..<end]))
                collect()
                start = end
            }
            if finish { _ = try channel.finish() }
        } catch {
            failure = error
        }
        collect()
        return (parts, failure)
    }

    static let wellFormed: [String] = [
        "GET /mcp HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\":1234}",
        "POST /mcp?x=1 HTTP/1.1\r\nhost: a\r\ncontent-length: 0\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "DELETE /mcp HTTP/1.1\r\nMcp-Session-Id:  abc \t\r\nAuthorization: Bearer eyJ.x.y\r\n\r\n",
        // Two requests in one read, the second with a body.
        "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        // Chunked: two chunks (hex sizes, an extension), then the last chunk and no trailers.
        "POST /mcp HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nA;ext=1\r\n, chunked!\r\n0\r\n\r\n",
        // Chunked with trailer fields, then a pipelined request.
        "POST /mcp HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 3\r\nX-Two: b\r\n\r\n"
            + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
        // Bytes above 0x7F in a value.
        "GET / HTTP/1.1\r\nX-Name: caf\u{E9}\r\n\r\n",
    ]

    @Test(arguments: wellFormed)
    func wellFormedRequestsReadAsSwiftNIOReadsThem(text: String) {
        let bytes = Array(text.utf8)
        let reference = Self.read(bytes, piece: bytes.count, ours: false)
        #expect(reference.error == nil)
        #expect(!reference.parts.isEmpty)
        for piece in 1...bytes.count {
            let ours = Self.read(bytes, piece: piece, ours: true)
            #expect(ours.error == nil, "piece \(piece)")
            #expect(ours.parts == reference.parts, "piece \(piece)")
        }
    }

    static let refused: [String] = [
        "GET / HTTP/2.0\r\n\r\n",
        "GET /\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nX-A: a\u{01}b\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nab\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 2048) + "\r\n\r\n",
        "GET / HTTP/1.1\r\n" + String(repeating: "X-A: 1\r\n", count: 17) + "\r\n",
    ]

    /// Each is refused with an `HTTPParserError`, in pieces of any size, and nothing of the refused request is passed
    /// on after what came before the fault (a chunked body's parts that were already complete).
    @Test(arguments: refused)
    func malformedRequestsAreRefusedWithAParserError(text: String) {
        let bytes = Array(text.utf8)
        let whole = Self.read(bytes, piece: bytes.count, ours: true)
        #expect(whole.error is HTTPParserError, "\(text.debugDescription): \(String(describing: whole.error))")
        #expect(!whole.parts.contains { $0.hasPrefix("end") }, "\(whole.parts)")
        for piece in [1, 2, 7] {
            let pieces = Self.read(bytes, piece: piece, ours: true)
            #expect(pieces.error is HTTPParserError, "piece \(piece)")
            #expect(!pieces.parts.contains { $0.hasPrefix("end") }, "piece \(piece): \(pieces.parts)")
        }
    }

    /// A connection that ends inside a request is an error, as in SwiftNIO's decoder; one that ends between requests
    /// is not.
    @Test func aRequestCutShortByTheConnectionsEndIsAnError() {
        for cut in [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na",
            "GET / HTTP/1.1\r\nHost: a\r\n",
        ] {
            let outcome = Self.read(Array(cut.utf8), piece: 4, ours: true, finish: true)
            #expect(outcome.error is HTTPParserError, "\(cut.debugDescription)")
        }
        let complete = Self.read(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8), piece: 4, ours: true, finish: true)
        #expect(complete.error == nil)
        #expect(complete.parts.last == "end []")
    }

    /// A head over the cap is a header overflow, refused before its end arrives.
    @Test func aHeadOverTheCapIsAHeaderOverflowBeforeItEnds() {
        let text = "GET / HTTP/1.1\r\nX-Pad: " + String(repeating: "p", count: 4096)
        let outcome = Self.read(Array(text.utf8), piece: 512, ours: true)
        #expect((outcome.error as? HTTPParserError) == .headerOverflow)
        #expect(outcome.parts.isEmpty)
    }
}
