import ScopeGate

/// Bounds applied to a request before any work that grows with it.
///
/// ```swift
/// let limits = RequestLimits(maxBodyBytes: 256 * 1024, maxBatch: 16, maxDepth: 32)
/// if let refusal = limits.headRejection(method: "POST", target: "/mcp", fields: fields) {
///     // answer refusal.code.httpStatus (431) with refusal.responseBody(); nothing else is read
/// }
/// ```
public struct RequestLimits: Sendable, Hashable {
    /// Largest accepted body, in bytes (HTTP 413 above it).
    public var maxBodyBytes: Int
    /// Most messages in a JSON-RPC batch (HTTP 413 above it).
    public var maxBatch: Int
    /// Deepest JSON nesting (a batch array counts as one level).
    public var maxDepth: Int
    /// Largest accepted request head, in bytes as HTTP/1.1 writes it: the request line plus `name: value\r\n`
    /// for every field (HTTP 431 above it). The default leaves room for a large JWT in `Authorization`.
    public var maxHeaderBytes: Int
    /// Most header fields in a request head (HTTP 431 above it).
    public var maxHeaderFields: Int

    public init(
        maxBodyBytes: Int = 1 << 20, maxBatch: Int = 64, maxDepth: Int = 32, maxHeaderBytes: Int = 32 << 10,
        maxHeaderFields: Int = 100
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxBatch = maxBatch
        self.maxDepth = maxDepth
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
    }

    /// The size of a request head as HTTP/1.1 writes it: `METHOD target HTTP/1.1\r\n`, `Host: authority\r\n`
    /// when the server took the `Host` field out of `fields` (as `:authority`), `name: value\r\n` per field, and
    /// the blank line.
    @inlinable
    public static func headSize<Fields: Sequence>(
        method: String, target: String, authority: String? = nil, fields: Fields
    ) -> Int where Fields.Element == (String, String) {
        var size = method.utf8.count + 1 + target.utf8.count + 11 + 2
        if let authority { size += 8 + authority.utf8.count }
        for (name, value) in fields { size += name.utf8.count + 2 + value.utf8.count + 2 }
        return size
    }

    /// The refusal of a request head over ``maxHeaderFields`` or ``maxHeaderBytes`` (431,
    /// ``RequestRejection/Code-swift.struct/headerTooLarge``), or nil. Checked before the body is read or a token
    /// is looked at.
    @inlinable
    public func headRejection<Fields: Sequence>(
        method: String, target: String, authority: String? = nil, fields: Fields
    ) -> RequestRejection? where Fields.Element == (String, String) {
        var count = authority == nil ? 0 : 1
        for _ in fields { count += 1 }
        let size = Self.headSize(method: method, target: target, authority: authority, fields: fields)
        if count > maxHeaderFields { return Self.headRefusal("\(count) header fields; at most \(maxHeaderFields)") }
        if size > maxHeaderBytes {
            return Self.headRefusal("request head of \(size) bytes; at most \(maxHeaderBytes)")
        }
        return nil
    }

    /// The caps of the HTTP/1 head reader both gateways read requests with (`RequestHeadParser`), which refuses a
    /// head over them itself (400 and the connection closed, before the request reaches the gateway): twice these
    /// limits, and no lower than SwiftNIO's defaults (80 KiB, 1000 fields), so that a head over the limits but within
    /// the caps gets the readable 431.
    public var parserCaps: (bytes: Int, fields: Int) {
        (max(80 << 10, 2 * maxHeaderBytes), max(1000, 2 * maxHeaderFields))
    }

    /// A 431 refusal whose `data.reason` names its stable code.
    @usableFromInline
    static func headRefusal(_ message: String) -> RequestRejection {
        let code = RequestRejection.Code.headerTooLarge
        return RequestRejection(code, message, data: .object(["reason": .string(code.id)]))
    }
}
