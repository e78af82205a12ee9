import NIOCore
import NIOHTTP1
@_spi(ScopeGatePackage) import ScopeGate

/// One request to a plain-HTTP upstream as the bytes that go on the wire: its HTTP/1.1 head and body in one
/// buffer, written with one system call. The proxy writes the head itself rather than through SwiftNIO's
/// `HTTPRequestEncoder`: a request it forwards is a method, a target, the fields ``ProxyHeaders`` lets through
/// and a body of known length, and encoding that directly takes one write through the pipeline instead of three.
///
/// No field value holds a control character but tab (RFC 9110 §5.5), which SwiftNIO's outbound header validation
/// would otherwise check: the client's values were read by the proxy's request decoder (``HTTP1RequestDecoder``),
/// which refuses a request with one (400), and, when they come as `HTTPFields`, made legal again by HTTPTypes; the two values the proxy adds,
/// `Host` (from the upstream URL) and `Authorization` (from the environment or a token exchange), are checked here.
///
/// ```swift
/// guard let bytes = UpstreamRequestBytes(method: .POST, target: "/mcp", host: "127.0.0.1:9000",
///                                        fields: [("Content-Type", "application/json")], authorization: nil,
///                                        body: body) else { /* 502 */ }
/// ```
struct UpstreamRequestBytes: Sendable {
    /// What the upstream connection's response decoder is told of the request: its method, which says whether the
    /// answer has a body (`HEAD`).
    let head: HTTPRequestHead
    /// The head and the body.
    let bytes: ByteBuffer

    /// Nil when `host` or `authorization` holds a control character (see the type's discussion), and, as a last
    /// guard that cannot fire, when the head does not fit the room computed for it.
    init?(
        method: HTTPMethod, target: String, host: String, fields: some Collection<(String, String)>,
        authorization: String?, body: ByteBuffer
    ) {
        guard Self.isLegal(host), authorization.map(Self.isLegal) != false else { return nil }
        // The head is written with a ``ByteCursor`` into room reserved once: written piece by piece into the
        // `ByteBuffer` it costs about 12,000 instructions per request (each write checks the buffer's uniqueness,
        // capacity and exclusive access), with the cursor about a tenth. The room is an upper bound: every field
        // the client sent (those that go are a subset), the values the proxy adds, and the punctuation.
        var room = 80 + method.rawValue.utf8.count + target.utf8.count + host.utf8.count
        for (name, value) in fields { room += name.utf8.count + value.utf8.count + 4 }
        if let authorization { room += authorization.utf8.count + 17 }
        let length = body.readableBytes
        var bytes = ByteBufferAllocator().buffer(capacity: room + length)
        var fits = true
        bytes.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { raw in
            var cursor = ByteCursor(raw.bindMemory(to: UInt8.self))
            cursor.put(contentsOf: method.rawValue)
            cursor.put(UInt8(ascii: " "))
            cursor.put(contentsOf: target)
            cursor.put(" HTTP/1.1\r\nHost: ")
            cursor.put(contentsOf: host)
            cursor.put("\r\n")
            ProxyHeaders.forEachUpstream(fields) { name, value in cursor.putField(name, value) }
            if let authorization { cursor.putField("Authorization", authorization) }
            if length > 0 || method == .POST {
                cursor.put("Content-Length: ")
                cursor.putDecimal(length)
                cursor.put("\r\n")
            }
            cursor.put("\r\n")
            fits = !cursor.overflowed
            return cursor.count
        }
        // Cannot happen (the room is an upper bound); if it did, the request is not sent rather than sent cut.
        guard fits else { return nil }
        var body = body
        bytes.writeBuffer(&body)
        self.bytes = bytes
        self.head = Self.decoderHead(method)
    }

    /// Whether `value` holds no control character but tab.
    private static func isLegal(_ value: String) -> Bool {
        !value.utf8.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }

    /// The heads the decoder is told of for the usual methods, made once (a head's storage is an allocation).
    private static let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "")
    private static let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "")
    private static let delete = HTTPRequestHead(version: .http1_1, method: .DELETE, uri: "")

    private static func decoderHead(_ method: HTTPMethod) -> HTTPRequestHead {
        switch method {
        case .POST: post
        case .GET: get
        case .DELETE: delete
        default: HTTPRequestHead(version: .http1_1, method: method, uri: "")
        }
    }
}
