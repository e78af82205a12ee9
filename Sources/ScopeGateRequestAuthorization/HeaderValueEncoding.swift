import Foundation

/// The value encoding of `Mcp-Name` and `Mcp-Param-{name}` headers (2026-07-28 Streamable HTTP, "Value
/// Encoding"): plain visible ASCII, space and tab as-is; anything else, and any value that itself looks like the
/// sentinel, as `=?base64?{Base64 of the UTF-8}?=`. The markers are case-sensitive.
///
/// ```swift
/// HeaderValueEncoding.decode("=?base64?SGVsbG8sIOS4lueVjA==?=")  // "Hello, 世界"
/// HeaderValueEncoding.encode(" padded ")                         // "=?base64?IHBhZGRlZCA=?="
/// ```
public enum HeaderValueEncoding {
    static let prefix = "=?base64?"
    static let suffix = "?="

    /// The decoded value; nil for a sentinel whose content is not valid Base64 of UTF-8, or a plain value with
    /// characters a header value may not carry (controls, non-ASCII).
    public static func decode(_ raw: String) -> String? {
        if raw.utf8.count >= prefix.utf8.count + suffix.utf8.count, raw.hasPrefix(prefix), raw.hasSuffix(suffix) {
            let inner = raw.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
            guard let data = Data(base64Encoded: Data(inner)) else { return nil }
            return String(bytes: data, encoding: .utf8)
        }
        return isPlain(raw) ? raw : nil
    }

    /// The header form of `value`: as-is when plain and not sentinel-shaped, else the Base64 sentinel.
    public static func encode(_ value: String) -> String {
        // Byte by byte: a value kept as-is is plain ASCII, where bytes and characters are the same (an allow
        // answer encodes three values per decision).
        let utf8 = value.utf8
        if isPlain(value) {
            let padded = utf8.first.map(ByteClass.isBlank) == true || utf8.last.map(ByteClass.isBlank) == true
            let sentinelShaped =
                utf8.count >= prefix.utf8.count + suffix.utf8.count && utf8.starts(with: prefix.utf8)
                && utf8.suffix(suffix.utf8.count).elementsEqual(suffix.utf8)
            if !padded, !sentinelShaped { return value }
        }
        return prefix + Data(utf8).base64EncodedString() + suffix
    }

    /// Visible ASCII (0x21–0x7E), space and horizontal tab only (RFC 9110 field values).
    static func isPlain(_ value: String) -> Bool {
        value.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
    }
}
