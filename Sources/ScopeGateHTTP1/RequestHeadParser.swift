import ScopeGateRequestAuthorization

// The gateways' HTTP/1.1 request-head reader: strict, and just what MCP clients and front proxies send.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads HTTP/1.1 and HTTP/1.0 request heads (RFC 9112) from a connection's bytes, for both gateways: the decision
/// service reads its connections with it directly, and the proxy through ``HTTP1RequestDecoder``.
///
/// Why not SwiftNIO's HTTP/1 decoder (llhttp, then every field as `HTTPHeaders`, through a delegate per field): a
/// gateway's request is a dozen fields, one of them a bearer token of about a kilobyte, and its answer is a cache hit
/// and a decision of well under a microsecond, so reading the head is a large share of the cost. In the decision
/// service SwiftNIO's pipeline capped it at half of nginx's rate before any decision was made; in the proxy the
/// request decoder was about a seventh of the instructions per forwarded request (docs/performance.md). This reader
/// finds the head's end and each value's end with `memchr` (vectorized, so a token costs one scan), and accepts only
/// the well-formed subset of the grammar that clients and front proxies send, refusing the rest:
/// - a request line of a token method, a target of visible ASCII, and `HTTP/1.1` or `HTTP/1.0`; lines end in CRLF
///   (empty lines before the request line are skipped, as RFC 9112 §2.2 allows);
/// - field lines of a token name, a colon straight after it, and a value of visible ASCII, spaces, tabs and
///   bytes ≥ 0x80; no line folding;
/// - the body's length from one `Content-Length` of digits or, where the reader accepts chunked bodies (the
///   proxy), from `Transfer-Encoding: chunked` alone. Without that acceptance any `Transfer-Encoding` is answered
///   411 (front proxies send decision requests with a length or no body); with it, another coding is refused (501),
///   and so is a request that has both fields (400: RFC 9112 §6.1 lets a server refuse that ambiguity, the root of
///   request smuggling).
///
/// ```swift
/// let parser = RequestHeadParser(maxHeadBytes: 80 << 10, maxFields: 1000)
/// var scanned = 0
/// switch parser.parse(bytes, scanned: &scanned) {
/// case .incomplete: break                               // read more
/// case .head(let head, let length): print(head.target)  // the body starts at `length`
/// case .refused(let refusal): print(refusal.status)     // 400, 411 or 501, then close
/// }
/// ```
package struct RequestHeadParser: Sendable {
    /// A parsed head.
    package struct Head: Sendable {
        package var method: String
        package var target: String
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        package var minorVersion: Int
        /// Every field in arrival order, names as sent, values without surrounding spaces.
        package var fields: [(String, String)]
        /// `Content-Length`; 0 without one (and for a chunked body).
        package var contentLength: Int
        /// Whether the body comes in chunks (`Transfer-Encoding: chunked`, where the reader accepts it).
        package var chunked: Bool
        /// Whether the connection stays open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
        /// with `Connection: keep-alive`).
        package var keepAlive: Bool
    }

    /// Why a head is refused; the connection is answered and closed.
    package struct Refusal: Error, Sendable, Equatable {
        /// 400; 411 for a body sent without `Content-Length` where chunked bodies are not accepted; 501 for a
        /// transfer coding other than `chunked`.
        package var status: Int
        package var message: String
        /// The head or trailer section is over the reader's caps (bytes or field lines).
        package var tooLarge = false

        package init(status: Int, message: String, tooLarge: Bool = false) {
            self.status = status
            self.message = message
            self.tooLarge = tooLarge
        }
    }

    package enum Outcome {
        /// No complete head yet.
        case incomplete
        /// A head, and its length in bytes (terminating empty line included): the body follows.
        case head(Head, length: Int)
        case refused(Refusal)
    }

    /// The largest head read; a longer one is refused (400) before it is complete.
    let maxHeadBytes: Int
    /// The most field lines a head may have.
    let maxFields: Int
    /// Whether a body may come in chunks; when not, any `Transfer-Encoding` is refused with 411.
    let acceptsChunked: Bool

    /// `maxHeadBytes`: the largest head read, request line and empty line included; `maxFields`: the most field
    /// lines; `acceptsChunked`: whether `Transfer-Encoding: chunked` bodies are read (else refused with 411).
    package init(maxHeadBytes: Int, maxFields: Int, acceptsChunked: Bool = false) {
        self.maxHeadBytes = maxHeadBytes
        self.maxFields = maxFields
        self.acceptsChunked = acceptsChunked
    }

    /// Parses the head at the start of `bytes`. `scanned` is how far earlier calls for the same head looked for
    /// its end; it is advanced here, so a head that arrives a byte at a time is scanned once, not once per byte.
    /// Start each head with 0.
    package func parse(_ bytes: UnsafeRawBufferPointer, scanned: inout Int) -> Outcome {
        let read = section(bytes, from: Self.requestLineStart(bytes), scanned: &scanned, name: "request head") {
            $0.head(maxFields: maxFields, acceptsChunked: acceptsChunked)
        }
        switch read {
        case nil: return .incomplete
        case .success(let (head, length)): return .head(head, length: length)
        case .failure(let refusal): return .refused(refusal)
        }
    }

    /// What ``parseTrailers(_:scanned:)`` read.
    package enum TrailerOutcome {
        /// The trailer section is not complete yet.
        case incomplete
        /// Its fields (none for a bare CRLF), and its length in bytes, the empty line included.
        case fields([(String, String)], length: Int)
        case refused(Refusal)
    }

    /// Parses the trailer section at the start of `bytes`, after a chunked body's last chunk, with the caps of a
    /// head. `scanned` works as in ``parse(_:scanned:)``.
    package func parseTrailers(_ bytes: UnsafeRawBufferPointer, scanned: inout Int) -> TrailerOutcome {
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "\r"), bytes[1] == UInt8(ascii: "\n") {
            return .fields([], length: 2)
        }
        // A field line is never empty, so its section ends like a head after its first line.
        switch section(
            bytes, from: 0, scanned: &scanned, name: "trailer section", { $0.trailers(maxFields: maxFields) })
        {
        case nil: return .incomplete
        case .success(let (fields, length)): return .fields(fields, length: length)
        case .failure(let refusal): return .refused(refusal)
        }
    }

    /// Finds the end of the section (a head, or a trailer section) whose first line starts at `start`, refuses it
    /// when it is over ``maxHeadBytes`` (before its end has arrived, too), and reads it with `read`: what was read
    /// and the section's length, a refusal, or nil while it is incomplete.
    private func section<Value>(
        _ bytes: UnsafeRawBufferPointer, from start: Int, scanned: inout Int, name: String,
        _ read: (inout Reader) -> Result<Value, Refusal>
    ) -> Result<(Value, Int), Refusal>? {
        let end = Self.headEnd(bytes, requestLineAt: start, scanned: &scanned)
        if (end ?? bytes.count) > maxHeadBytes {
            return .failure(.init(status: 400, message: "\(name) too large", tooLarge: true))
        }
        guard let end else { return nil }
        var reader = Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<end]), position: start)
        return read(&reader).map { ($0, end) }
    }

    /// Where the request line starts: after the empty lines a client may send before it (RFC 9112 §2.2).
    private static func requestLineStart(_ bytes: UnsafeRawBufferPointer) -> Int {
        var start = 0
        while start + 1 < bytes.count, bytes[start] == UInt8(ascii: "\r"), bytes[start + 1] == UInt8(ascii: "\n") {
            start += 2
        }
        return start
    }

    /// The offset just past the head's terminating empty line, for a request line at `start`; nil while the head is
    /// incomplete. `scanned` is where the previous search stopped.
    private static func headEnd(_ bytes: UnsafeRawBufferPointer, requestLineAt start: Int, scanned: inout Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        // The head ends at the first LF that follows "\r\n\r" (the request line is never empty here). Each LF is
        // found with `memchr`, so a long line (a bearer token) costs one vectorized scan.
        var i = max(scanned, start + 1)
        while i < bytes.count, let lf = memchr(base + i, Int32(UInt8(ascii: "\n")), bytes.count - i) {
            i = base.distance(to: UnsafeRawPointer(lf))
            if i >= start + 3, bytes[i - 1] == UInt8(ascii: "\r"), bytes[i - 2] == UInt8(ascii: "\n"),
                bytes[i - 3] == UInt8(ascii: "\r")
            {
                return i + 1
            }
            i += 1
        }
        scanned = max(bytes.count, 1)
        return nil
    }
}

/// A cursor over one complete head (request line, field lines, the empty line).
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    /// The next byte to read; starts at the request line.
    var position: Int

    typealias Refusal = RequestHeadParser.Refusal

    mutating func head(maxFields: Int, acceptsChunked: Bool) -> Result<RequestHeadParser.Head, Refusal> {
        guard let method = token(), skip(UInt8(ascii: " ")),
            let target = visible(), skip(UInt8(ascii: " ")),
            let minor = version(), lineEnd()
        else { return .failure(Refusal(status: 400, message: "malformed request line")) }
        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        var contentLength: Int?
        var chunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        while !lineEnd() {
            guard fields.count < maxFields else {
                return .failure(Refusal(status: 400, message: "too many fields", tooLarge: true))
            }
            let name: UnsafeRawBufferPointer
            let value: UnsafeRawBufferPointer
            switch fieldLine() {
            case .success(let field): (name, value) = field
            case .failure(let refusal): return .failure(refusal)
            }
            if ASCIICase.equals(name, "content-length") {
                guard contentLength == nil, let length = Self.decimal(value) else {
                    return .failure(Refusal(status: 400, message: "invalid Content-Length"))
                }
                contentLength = length
            } else if ASCIICase.equals(name, "transfer-encoding") {
                guard acceptsChunked else {
                    return .failure(Refusal(status: 411, message: "send the body with Content-Length"))
                }
                guard !chunked, ASCIICase.equals(value, "chunked") else {
                    return .failure(Refusal(status: 501, message: "unsupported transfer coding"))
                }
                chunked = true
            } else if ASCIICase.equals(name, "connection") {
                Self.connectionTokens(value) { token in
                    if ASCIICase.equals(token, "close") { connectionClose = true }
                    if ASCIICase.equals(token, "keep-alive") { connectionKeepAlive = true }
                }
            }
            fields.append((Self.string(name), Self.string(value)))
        }
        if chunked, contentLength != nil {
            return .failure(Refusal(status: 400, message: "both Content-Length and Transfer-Encoding"))
        }
        return .success(
            .init(
                method: Self.string(method), target: Self.string(target), minorVersion: minor, fields: fields,
                contentLength: contentLength ?? 0, chunked: chunked,
                keepAlive: minor == 1 ? !connectionClose : connectionKeepAlive && !connectionClose))
    }

    /// The field lines of a chunked body's trailer section, up to its empty line (RFC 9112 §7.1.2).
    mutating func trailers(maxFields: Int) -> Result<[(String, String)], Refusal> {
        var fields: [(String, String)] = []
        while !lineEnd() {
            guard fields.count < maxFields else {
                return .failure(Refusal(status: 400, message: "too many trailer fields", tooLarge: true))
            }
            switch fieldLine() {
            case .success(let field): fields.append((Self.string(field.name), Self.string(field.value)))
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(fields)
    }

    /// One field line: a token name, a colon straight after it, and its value (``fieldValue()``).
    private mutating func fieldLine() -> Result<(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer), Refusal>
    {
        guard let name = token(), skip(UInt8(ascii: ":")) else {
            return .failure(Refusal(status: 400, message: "malformed header field"))
        }
        guard let value = fieldValue() else {
            return .failure(Refusal(status: 400, message: "invalid header field value"))
        }
        return .success((name, value))
    }

    /// The token (a method, a field name) from here; nil when there is none.
    private mutating func token() -> UnsafeRawBufferPointer? {
        let start = position
        position = ByteClass.tokenEnd(bytes, from: start)
        return position > start ? UnsafeRawBufferPointer(rebasing: bytes[start..<position]) : nil
    }

    /// The visible ASCII (a request target) from here; nil when there is none.
    private mutating func visible() -> UnsafeRawBufferPointer? {
        let start = position
        while position < bytes.count, ByteClass.isVisible(bytes[position]) { position += 1 }
        return position > start ? UnsafeRawBufferPointer(rebasing: bytes[start..<position]) : nil
    }

    private mutating func skip(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// `HTTP/1.0` or `HTTP/1.1`: the minor version.
    private mutating func version() -> Int? {
        let prefix = (UInt8(ascii: "H"), UInt8(ascii: "T"), UInt8(ascii: "T"), UInt8(ascii: "P"))
        guard position + 8 <= bytes.count, bytes[position] == prefix.0, bytes[position + 1] == prefix.1,
            bytes[position + 2] == prefix.2, bytes[position + 3] == prefix.3,
            bytes[position + 4] == UInt8(ascii: "/"), bytes[position + 5] == UInt8(ascii: "1"),
            bytes[position + 6] == UInt8(ascii: ".")
        else { return nil }
        let minor = bytes[position + 7]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else { return nil }
        position += 8
        return Int(minor - UInt8(ascii: "0"))
    }

    /// Consumes a CRLF.
    private mutating func lineEnd() -> Bool {
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\r"),
            bytes[position + 1] == UInt8(ascii: "\n")
        else { return false }
        position += 2
        return true
    }

    /// A field value up to its CRLF (consumed), without leading or trailing spaces and tabs; nil for a byte a value
    /// may not hold.
    private mutating func fieldValue() -> UnsafeRawBufferPointer? {
        let start = position
        // The value runs to the next CR (a bare LF or another control inside it is caught below).
        guard let base = bytes.baseAddress,
            let cr = memchr(base + start, Int32(UInt8(ascii: "\r")), bytes.count - start)
        else { return nil }
        let end = base.distance(to: UnsafeRawPointer(cr))
        guard ByteClass.allFieldValue(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else { return nil }
        position = end
        guard lineEnd() else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[ByteClass.trimmingBlanks(bytes, in: start..<end)])
    }

    private static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// A non-negative decimal of at most 18 digits (no sign, no spaces, no list).
    private static func decimal(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// The comma-separated tokens of a `Connection` value, without surrounding spaces.
    private static func connectionTokens(_ bytes: UnsafeRawBufferPointer, _ visit: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: ",") {
            visit(UnsafeRawBufferPointer(rebasing: bytes[ByteClass.trimmingBlanks(bytes, in: start..<i)]))
            start = i + 1
        }
    }
}
