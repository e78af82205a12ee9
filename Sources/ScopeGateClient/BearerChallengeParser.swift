/// The parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, RFC 9728 §5.1), as a client reads them.
///
/// ```swift
/// let challenge = WWWAuthenticate(#"Bearer error="insufficient_scope", scope="a b""#)
/// challenge?.error        // "insufficient_scope"
/// challenge?.scopes       // ["a", "b"]
/// ```
public struct WWWAuthenticate: Sendable, Hashable {
    /// Parameter name (lowercased) → value, quotes and escapes removed.
    public var parameters: [String: String]

    /// Reads the Bearer challenge of a header value; nil when there is none.
    public init?(_ header: String) {
        let bytes = Array(header.utf8)
        guard let start = Self.bearerStart(bytes) else { return nil }
        var parameters: [String: String] = [:]
        var i = start
        func skip(_ set: Set<UInt8>) { while i < bytes.count, set.contains(bytes[i]) { i += 1 } }
        while i < bytes.count {
            skip([0x20, 0x09, 0x2C])
            let nameStart = i
            while i < bytes.count, bytes[i] != 0x3D, bytes[i] != 0x20, bytes[i] != 0x2C { i += 1 }
            let name = String(decoding: bytes[nameStart..<i], as: UTF8.self).lowercased()
            skip([0x20, 0x09])
            guard i < bytes.count, bytes[i] == 0x3D else { break }  // another scheme, or the end
            i += 1
            skip([0x20, 0x09])
            var value: [UInt8] = []
            if i < bytes.count, bytes[i] == 0x22 {
                i += 1
                while i < bytes.count, bytes[i] != 0x22 {
                    if bytes[i] == 0x5C, i + 1 < bytes.count { i += 1 }
                    value.append(bytes[i])
                    i += 1
                }
                i += 1
            } else {
                while i < bytes.count, bytes[i] != 0x2C, bytes[i] != 0x20 {
                    value.append(bytes[i])
                    i += 1
                }
            }
            if !name.isEmpty, parameters[name] == nil { parameters[name] = String(decoding: value, as: UTF8.self) }
        }
        self.parameters = parameters
    }

    /// `error`, e.g. `invalid_token` or `insufficient_scope`.
    public var error: String? { parameters["error"] }
    /// `scope`, split on spaces.
    public var scopes: [String] { (parameters["scope"] ?? "").split(separator: " ").map(String.init) }
    /// `resource_metadata` (RFC 9728).
    public var resourceMetadata: String? { parameters["resource_metadata"] }

    /// Where the parameters of the `Bearer` scheme begin (the scheme name is case-insensitive).
    static func bearerStart(_ bytes: [UInt8]) -> Int? {
        let scheme = Array("bearer".utf8)
        var i = 0
        while i + scheme.count <= bytes.count {
            let atBoundary = i == 0 || bytes[i - 1] == 0x20 || bytes[i - 1] == 0x2C
            let end = i + scheme.count
            if atBoundary, zip(bytes[i..<end], scheme).allSatisfy({ ($0 | 0x20) == $1 }),
                end == bytes.count || bytes[end] == 0x20
            {
                return end
            }
            i += 1
        }
        return nil
    }
}
