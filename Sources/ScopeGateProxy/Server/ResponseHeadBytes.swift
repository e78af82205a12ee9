import NIOCore
import NIOHTTP1
@_spi(ScopeGatePackage) import ScopeGate
import ScopeGateRequestAuthorization

/// An HTTP/1.1 answer as the bytes SwiftNIO's `HTTPResponseEncoder` writes for it, for the answers the connection
/// handler writes past that encoder (``ProxyConnectionHandler``): a whole answer's head and body in one buffer take
/// one write through the pipeline and one system call, where the encoder took three writes (head, body, end) and
/// about 13,000 instructions a request to make the head's bytes.
///
/// The fields are written in their order, names and values as they are, in one pass that applies what the
/// proxy's answers need and what the encoder does (`correctlyFrameTransportHeaders`):
/// - with `server`, the `Server` fields are left out and `Server: <server>` follows the others (SwiftNIO's
///   `replaceOrAdd`);
/// - a status without a body (1xx, 204, 304) loses `Content-Length` and `Transfer-Encoding`, and nothing follows
///   the head;
/// - a status with one: with `Content-Length`, `Transfer-Encoding` is left out; without it, a whole answer
///   (`body` given) gains `Content-Length: <its length>`, and a head alone (the answer to a `HEAD` request, which
///   says what a `GET` would frame) gains `transfer-encoding: chunked` in place of any it had.
///
/// Field values hold no control character but tab: they were read by the HTTP/1 decoders (SwiftNIO's for upstream
/// answers, ``HTTP1RequestDecoder`` for requests) or are the proxy's own, as on the encoder's path, which Hummingbird configures without outbound validation. A test holds
/// the bytes to the encoder's.
///
/// ```swift
/// let bytes = ResponseHeadBytes.encode(
///     status: .ok, fields: ["Content-Type": "application/json"], server: "scopegate",
///     body: ByteBuffer(string: "{}"), allocator: ByteBufferAllocator())
/// // HTTP/1.1 200 OK, Content-Type, Server, Content-Length: 2, then {}
/// ```
enum ResponseHeadBytes {
    /// The answer's bytes: its head, then `body` when the status has one (see the type's discussion). Nil if the
    /// computed room was short, which cannot happen.
    static func encode(
        status: HTTPResponseStatus, fields: HTTPHeaders, server: String?, body: ByteBuffer?,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer? {
        let hasBody = status.mayHaveResponseBody
        let reason = status.reasonPhrase
        var room = 96 + reason.utf8.count + (server?.utf8.count ?? 0)
        var hasLength = false
        for (name, value) in fields {
            room += name.utf8.count + value.utf8.count + 4
            if ASCIICase.equals(name, "content-length") { hasLength = true }
        }
        let addedLength = hasBody && !hasLength ? body?.readableBytes : nil
        let chunked = hasBody && !hasLength && body == nil
        let bodyBytes = hasBody ? body?.readableBytes ?? 0 : 0
        var bytes = allocator.buffer(capacity: room + bodyBytes)
        var fits = true
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { raw in
            var cursor = ByteCursor(raw.bindMemory(to: UInt8.self))
            cursor.put("HTTP/1.1 ")
            cursor.putDecimal(Int(status.code))
            cursor.put(UInt8(ascii: " "))
            cursor.put(contentsOf: reason)
            cursor.put("\r\n")
            for (name, value) in fields {
                if server != nil, ASCIICase.equals(name, "server") { continue }
                if ASCIICase.equals(name, "transfer-encoding") { continue }
                if !hasBody, ASCIICase.equals(name, "content-length") { continue }
                cursor.putField(name, value)
            }
            if let server { cursor.putField("Server", server) }
            if let addedLength {
                cursor.put("Content-Length: ")
                cursor.putDecimal(addedLength)
                cursor.put("\r\n")
            }
            if chunked { cursor.put("transfer-encoding: chunked\r\n") }
            cursor.put("\r\n")
            fits = !cursor.overflowed
            return cursor.count
        }
        guard fits else { return nil }
        if hasBody, var body { bytes.writeBuffer(&body) }
        return bytes
    }
}
