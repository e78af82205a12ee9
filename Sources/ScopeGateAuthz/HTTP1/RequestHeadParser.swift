import ScopeGateRequestAuthorization

// The decision service's HTTP/1.1 request-head reader: strict, and just what decision requests need.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads HTTP/1.1 and HTTP/1.0 request heads (RFC 9112) from a connection's bytes.
///
/// Why not SwiftNIO's HTTP/1 pipeline: a decision request is a dozen fields and usually no body, and its answer is
/// a cache hit and a decision of well under a microsecond, so the HTTP layer is most of the cost. SwiftNIO's
/// pipeline (llhttp, then header values as `HTTPHeaders`, the pipelining, error and validation handlers, the
/// response encoder) capped the service at half of nginx's rate for the same request before any decision was made
/// (docs/performance.md). This reader accepts only the well-formed subset of the grammar a front proxy sends, and
/// refuses the rest:
/// - a request line of a token method, a target of visible ASCII, and `HTTP/1.1` or `HTTP/1.0`; lines end in CRLF
///   (empty lines before the request line are skipped, as RFC 9112 §2.2 allows);
/// - field lines of a token name, a colon straight after it, and a value of visible ASCII, spaces, tabs and
///   bytes ≥ 0x80; no line folding;
/// - the body's length from one `Content-Length` of digits; `Transfer-Encoding` is answered 411 (front proxies send
///   decision requests with a length or no body).
///
/// ```swift
/// let parser = RequestHeadParser(maxHeadBytes: 80 << 10, maxFields: 1000)
/// var scanned = 0
/// switch parser.parse(bytes, scanned: &scanned) {
/// case .incomplete: break                               // read more
/// case .head(let head, let length): print(head.target)  // the body starts at `length`
/// case .refused(let refusal): print(refusal.status)     // 400 or 411, then close
/// }
/// ```
struct RequestHeadParser: Sendable {
    /// A parsed head.
    struct Head: Sendable {
        var method: String
        var target: String
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        var minorVersion: Int
        /// Every field in arrival order, names as sent, values without surrounding spaces.
        var fields: [(String, String)]
        /// `Content-Length`; 0 without one.
        var contentLength: Int
        /// Whether the connection stays open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only
        /// with `Connection: keep-alive`).
        var keepAlive: Bool
    }

    /// Why a head is refused; the connection is answered and closed.
    struct Refusal: Error, Sendable, Equatable {
        /// 400, or 411 for a body sent without `Content-Length`.
        var status: Int
        var message: String
    }

    enum Outcome {
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

    /// Parses the head at the start of `bytes`. `scanned` is how far earlier calls for the same head looked for
    /// its end; it is advanced here, so a head that arrives a byte at a time is scanned once, not once per byte.
    /// Start each head with 0.
    func parse(_ bytes: UnsafeRawBufferPointer, scanned: inout Int) -> Outcome {
        let start = Self.requestLineStart(bytes)
        let end = Self.headEnd(bytes, requestLineAt: start, scanned: &scanned)
        if (end ?? bytes.count) > maxHeadBytes {
            return .refused(.init(status: 400, message: "request head too large"))
        }
        guard let end else { return .incomplete }
        var reader = Reader(bytes: UnsafeRawBufferPointer(rebasing: bytes[..<end]), position: start)
        switch reader.head(maxFields: maxFields) {
        case .success(let head): return .head(head, length: end)
        case .failure(let refusal): return .refused(refusal)
        }
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

    mutating func head(maxFields: Int) -> Result<RequestHeadParser.Head, Refusal> {
        guard let method = take(while: ByteClass.isToken), skip(UInt8(ascii: " ")),
            let target = take(while: ByteClass.isVisible), skip(UInt8(ascii: " ")),
            let minor = version(), lineEnd()
        else { return .failure(Refusal(status: 400, message: "malformed request line")) }
        var fields: [(String, String)] = []
        fields.reserveCapacity(16)
        var contentLength: Int?
        var connectionClose = false
        var connectionKeepAlive = false
        while !lineEnd() {
            guard fields.count < maxFields else { return .failure(Refusal(status: 400, message: "too many fields")) }
            guard let name = take(while: ByteClass.isToken), skip(UInt8(ascii: ":")) else {
                return .failure(Refusal(status: 400, message: "malformed header field"))
            }
            guard let value = fieldValue() else {
                return .failure(Refusal(status: 400, message: "invalid header field value"))
            }
            if ASCIICase.equals(name, "content-length") {
                guard contentLength == nil, let length = Self.decimal(value) else {
                    return .failure(Refusal(status: 400, message: "invalid Content-Length"))
                }
                contentLength = length
            } else if ASCIICase.equals(name, "transfer-encoding") {
                return .failure(Refusal(status: 411, message: "send the body with Content-Length"))
            } else if ASCIICase.equals(name, "connection") {
                Self.connectionTokens(value) { token in
                    if ASCIICase.equals(token, "close") { connectionClose = true }
                    if ASCIICase.equals(token, "keep-alive") { connectionKeepAlive = true }
                }
            }
            fields.append((Self.string(name), Self.string(value)))
        }
        return .success(
            .init(
                method: Self.string(method), target: Self.string(target), minorVersion: minor, fields: fields,
                contentLength: contentLength ?? 0,
                keepAlive: minor == 1 ? !connectionClose : connectionKeepAlive && !connectionClose))
    }

    /// The bytes from here while `accept` holds; nil when there are none.
    private mutating func take(while accept: (UInt8) -> Bool) -> UnsafeRawBufferPointer? {
        let start = position
        while position < bytes.count, accept(bytes[position]) { position += 1 }
        return position > start ? UnsafeRawBufferPointer(rebasing: bytes[start..<position]) : nil
    }

    private mutating func skip(_ byte: UInt8) -> Bool {
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    /// `HTTP/1.0` or `HTTP/1.1`: the minor version.
    private mutating func version() -> Int? {
        let prefix = "HTTP/1."
        guard position + prefix.utf8.count + 1 <= bytes.count,
            zip(prefix.utf8, bytes[position...]).allSatisfy({ $0 == $1 })
        else { return nil }
        let minor = bytes[position + prefix.utf8.count]
        guard minor == UInt8(ascii: "0") || minor == UInt8(ascii: "1") else { return nil }
        position += prefix.utf8.count + 1
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
