/// The request headers authorization reads, with case-insensitive names: `MCP-Protocol-Version`, `Mcp-Method`,
/// `Mcp-Name`, `Mcp-Param-{name}`, `Mcp-Session-Id` and `Authorization`. Other headers are ignored. A header
/// among these that arrives twice is remembered in ``duplicated`` (the request is refused: two values for one
/// field let two readers see different requests).
///
/// ```swift
/// let headers = MCPRequestHeaders([("mcp-method", "tools/call"), ("MCP-NAME", "=?base64?w6l0w6k=?=")])
/// try headers.name()          // "été"
/// try headers.parameter("Region")
/// ```
public struct MCPRequestHeaders: Sendable, Hashable {
    public var protocolVersion: String?
    public var method: String?
    /// `Mcp-Name` as sent (see ``name()`` for the decoded value).
    public var rawName: String?
    public var sessionID: String?
    public var authorization: String?
    /// `Mcp-Param-{name}` values as sent, by lowercased `{name}`.
    public var rawParameters: [String: String]
    /// Lowercased names of the headers above that arrived more than once.
    public var duplicated: [String]

    /// Reads the fields of interest from `(name, value)` pairs.
    @inlinable
    public init(_ fields: some Sequence<(String, String)>) {
        protocolVersion = nil
        method = nil
        rawName = nil
        sessionID = nil
        authorization = nil
        rawParameters = [:]
        duplicated = []
        for (name, value) in fields {
            let utf8 = name.utf8
            // Every name read here starts with `m` or `a`: the others are skipped at their first byte.
            guard let first = utf8.first.map({ $0 | 0x20 }), first == UInt8(ascii: "m") || first == UInt8(ascii: "a")
            else { continue }
            if ASCIICase.equals(name, "mcp-method") {
                Self.set(&method, value, name, &duplicated)
            } else if ASCIICase.equals(name, "mcp-name") {
                Self.set(&rawName, value, name, &duplicated)
            } else if ASCIICase.equals(name, "authorization") {
                Self.set(&authorization, value, name, &duplicated)
            } else if ASCIICase.equals(name, "mcp-protocol-version") {
                Self.set(&protocolVersion, value, name, &duplicated)
            } else if ASCIICase.equals(name, "mcp-session-id") {
                Self.set(&sessionID, value, name, &duplicated)
            } else if utf8.count > 10, ASCIICase.hasPrefix(name, "mcp-param-") {
                let key = String(Substring(utf8.dropFirst(10))).lowercased()
                var slot = rawParameters[key]
                Self.set(&slot, value, name, &duplicated)
                rawParameters[key] = slot
            }
        }
    }

    /// Sets a field read once; a second value is kept too, and its lowercased name noted in `duplicated`.
    @usableFromInline
    static func set(_ slot: inout String?, _ value: String, _ name: String, _ duplicated: inout [String]) {
        if slot != nil {
            let lower = name.lowercased()
            if !duplicated.contains(lower) { duplicated.append(lower) }
        }
        slot = value
    }

    /// `Mcp-Name` decoded from the Base64 sentinel; nil when absent. Throws `HeaderMismatch` (400) for a value
    /// that does not decode.
    public func name() throws(RequestRejection) -> String? {
        guard let rawName else { return nil }
        guard let decoded = HeaderValueEncoding.decode(rawName) else {
            throw RequestRejection(.headerMismatch, "`Mcp-Name` is not a valid header value or Base64 sentinel")
        }
        return decoded
    }

    /// `Mcp-Param-{name}` (name matched case-insensitively) decoded; nil when absent. Throws `HeaderMismatch`
    /// for a value that does not decode.
    public func parameter(_ name: String) throws(RequestRejection) -> String? {
        guard let raw = rawParameters[name.lowercased()] else { return nil }
        guard let decoded = HeaderValueEncoding.decode(raw) else {
            throw RequestRejection(
                .headerMismatch, "`Mcp-Param-\(name)` is not a valid header value or Base64 sentinel")
        }
        return decoded
    }
}
