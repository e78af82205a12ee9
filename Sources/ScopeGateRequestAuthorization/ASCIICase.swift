/// Case-insensitive comparison of ASCII names (HTTP header names, connection options) with a lowercase literal,
/// without lowercasing, and so without allocating a string for each name read.
///
/// ```swift
/// ASCIICase.equals("Mcp-Method".utf8, "mcp-method")        // true
/// ASCIICase.hasPrefix("MCP-Param-Region".utf8, "mcp-param-")  // true
/// ```
public enum ASCIICase {
    /// Whether `bytes`, with `A`–`Z` lowercased, are `lowercase` (which must be lowercase ASCII).
    @inlinable
    public static func equals<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ lowercase: StaticString) -> Bool {
        bytes.count == lowercase.utf8CodeUnitCount && hasPrefix(bytes, lowercase)
    }

    /// Whether `bytes`, with `A`–`Z` lowercased, start with `lowercase` (which must be lowercase ASCII).
    @inlinable
    public static func hasPrefix<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        var i = 0
        for byte in bytes {
            guard i < expected.count else { return true }
            if lowered(byte) != expected[i] { return false }
            i += 1
        }
        return i == expected.count
    }

    @inlinable
    static func lowered(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }
}
