import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ScopeGateProxy

/// ``ResponseHeadBytes`` writes what SwiftNIO's response encoder writes for the same answer: the connection handler
/// writes whole answers and the heads of answers to `HEAD` past that encoder.
struct ResponseHeadBytesTests {
    static let statuses: [HTTPResponseStatus] = [
        .ok, .created, .accepted, .noContent, .notModified, .badRequest, .unauthorized, .forbidden, .notFound,
        .payloadTooLarge, .internalServerError, .badGateway, .gatewayTimeout, .continue,
        .custom(code: 299, reasonPhrase: "Odd"),
    ]

    static let fieldSets: [[(String, String)]] = [
        [],
        [("Content-Type", "application/json")],
        [("Content-Type", "application/json"), ("Content-Length", "7")],
        [("server", "upstream/1.0"), ("Content-Type", "text/event-stream"), ("X-Accel-Buffering", "no")],
        [("content-length", "3"), ("Transfer-Encoding", "chunked"), ("Mcp-Session-Id", "a b\tc")],
        [("TRANSFER-ENCODING", "gzip, chunked"), ("Cache-Control", "no-store")],
        [
            ("SERVER", "a"), ("X-One", "1"), ("Server", "c"),
            ("WWW-Authenticate", #"Bearer error="insufficient_scope""#),
        ],
    ]

    /// Everything SwiftNIO's encoder (not paired with a decoder, as in ``ProxyServer``) writes for `parts`.
    static func encoded(_ parts: [HTTPServerResponsePart]) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
        defer { _ = try? channel.finish() }
        for part in parts { try channel.writeOutbound(part) }
        var bytes: [UInt8] = []
        while let data = try channel.readOutbound(as: IOData.self) {
            guard case .byteBuffer(let buffer) = data else {
                Issue.record("a file region")
                break
            }
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    /// A whole answer: the proxy's `Server` set, `Content-Length` added when missing, then the body.
    @Test(arguments: [nil, "scopegate"], [0, 2, 300])
    func aWholeAnswerIsWhatTheEncoderWrites(server: String?, bodyLength: Int) throws {
        for status in Self.statuses {
            for pairs in Self.fieldSets {
                // A status without a body is answered without one (the encoder would write the bytes anyway).
                let body = status.mayHaveResponseBody ? String(repeating: "x", count: bodyLength) : ""
                var fields = HTTPHeaders(pairs)
                if let server { fields.replaceOrAdd(name: "Server", value: server) }
                if !fields.contains(name: "content-length") {
                    fields.add(name: "Content-Length", value: String(body.utf8.count))
                }
                var parts: [HTTPServerResponsePart] = [
                    .head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))
                ]
                if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(string: body)))) }
                parts.append(.end(nil))
                let expected = try Self.encoded(parts)
                let written = ResponseHeadBytes.encode(
                    status: status, fields: HTTPHeaders(pairs), server: server, body: ByteBuffer(string: body),
                    allocator: ByteBufferAllocator())
                #expect(
                    written.map { Array($0.readableBytesView) } == expected,
                    "\(status.code) \(pairs): \(String(decoding: expected, as: UTF8.self))")
            }
        }
    }

    /// A head alone (an answer to `HEAD`) is the encoder's head: framed as the body a `GET` would have.
    @Test func aHeadAloneIsWhatTheEncoderWritesForTheHead() throws {
        for status in Self.statuses {
            for pairs in Self.fieldSets {
                let head = HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(pairs))
                let expected = try Self.encoded([.head(head)])
                let written = ResponseHeadBytes.encode(
                    status: status, fields: HTTPHeaders(pairs), server: nil, body: nil, allocator: ByteBufferAllocator()
                )
                #expect(
                    written.map { Array($0.readableBytesView) } == expected,
                    "\(status.code) \(pairs): \(String(decoding: expected, as: UTF8.self))")
            }
        }
    }
}
