import NIOCore
import NIOHTTP1

/// One request to a plain-HTTP upstream as the bytes that go on the wire: its HTTP/1.1 head and body in one
/// buffer, written with one system call. The proxy writes the head itself rather than through SwiftNIO's
/// `HTTPRequestEncoder`: a request it forwards is a method, a target, the fields ``ProxyHeaders`` lets through
/// and a body of known length, and encoding that directly takes one write through the pipeline instead of three.
///
/// No field value holds a control character but tab (RFC 9110 §5.5), which SwiftNIO's outbound header validation
/// would otherwise check: the client's values were read by SwiftNIO's HTTP/1 decoder, which refuses a request with
/// one (400), and, when they come as `HTTPFields`, made legal again by HTTPTypes; the two values the proxy adds,
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

    /// Nil when `host` or `authorization` holds a control character (see the type's discussion).
    init?(
        method: HTTPMethod, target: String, host: String, fields: some Sequence<(String, String)>,
        authorization: String?, body: ByteBuffer
    ) {
        guard Self.isLegal(host), authorization.map(Self.isLegal) != false else { return nil }
        var bytes = ByteBufferAllocator().buffer(capacity: 256 + body.readableBytes)
        bytes.writeString(method.rawValue)
        bytes.writeStaticString(" ")
        bytes.writeString(target)
        bytes.writeStaticString(" HTTP/1.1\r\n")
        Self.write("Host", host, into: &bytes)
        ProxyHeaders.forEachUpstream(fields) { Self.write($0, $1, into: &bytes) }
        if let authorization { Self.write("Authorization", authorization, into: &bytes) }
        let length = body.readableBytes
        if length > 0 || method == .POST {
            bytes.writeStaticString("Content-Length: ")
            bytes.writeString(String(length))
            bytes.writeStaticString("\r\n")
        }
        bytes.writeStaticString("\r\n")
        var body = body
        bytes.writeBuffer(&body)
        self.bytes = bytes
        self.head = Self.decoderHead(method)
    }

    private static func write(_ name: String, _ value: String, into bytes: inout ByteBuffer) {
        bytes.writeString(name)
        bytes.writeStaticString(": ")
        bytes.writeString(value)
        bytes.writeStaticString("\r\n")
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
