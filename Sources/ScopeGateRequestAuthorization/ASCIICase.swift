/// Case-insensitive comparison of ASCII names (HTTP header names, connection options) with a lowercase literal,
/// without lowercasing, and so without allocating a string for each name read.
///
/// ```swift
/// ASCIICase.equals("Mcp-Method", "mcp-method")         // true
/// ASCIICase.hasPrefix("MCP-Param-Region", "mcp-param-")  // true
/// ASCIICase.contains("application/json, Text/Event-Stream", "text/event-stream")  // true
/// ```
public enum ASCIICase {
    /// Whether `name`, with `A`–`Z` lowercased, is `lowercase` (which must be lowercase ASCII).
    @inlinable
    public static func equals(_ name: String, _ lowercase: StaticString) -> Bool {
        name.utf8.count == lowercase.utf8CodeUnitCount && hasPrefix(name, lowercase)
    }

    /// Whether `name`, with `A`–`Z` lowercased, starts with `lowercase` (which must be lowercase ASCII).
    @inlinable
    public static func hasPrefix(_ name: String, _ lowercase: StaticString) -> Bool {
        // A native string's bytes are read in place; a bridged or lazily made one byte by byte.
        if let known = name.utf8.withContiguousStorageIfAvailable({ hasPrefix($0, lowercase) }) { return known }
        return hasPrefix(name.utf8, lowercase)
    }

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

    /// Whether `text`, with `A`–`Z` lowercased, holds `lowercase` (which must be lowercase ASCII) anywhere: a
    /// media type in an `Accept` list.
    public static func contains(_ text: String, _ lowercase: StaticString) -> Bool {
        if let known = text.utf8.withContiguousStorageIfAvailable({ contains($0, lowercase) }) { return known }
        return Array(text.utf8).withUnsafeBufferPointer { contains($0, lowercase) }
    }

    /// Whether `bytes`, with `A`–`Z` lowercased, hold `lowercase` (which must be lowercase ASCII) anywhere.
    static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        let count = lowercase.utf8CodeUnitCount
        guard count > 0 else { return true }
        guard bytes.count >= count else { return false }
        let first = lowercase.utf8Start.pointee
        for start in 0...(bytes.count - count) where lowered(bytes[start]) == first {
            if hasPrefix(UnsafeBufferPointer(rebasing: bytes[start..<(start + count)]), lowercase) { return true }
        }
        return false
    }

    @inlinable
    static func lowered(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }
}
