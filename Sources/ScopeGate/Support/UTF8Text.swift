/// UTF-8 bytes read as text on the per-line paths (`check --batch`, the JSON reader), where most fields are ASCII.
///
/// ```swift
/// let name = UTF8Text.string(fieldBytes)   // nil when the bytes are not valid UTF-8
/// ```
package enum UTF8Text {
    /// Whether every byte is below 0x80, eight at a time.
    package static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var any: UInt64 = 0
        var i = 0
        // Every load reads bytes i ..< i + 8, inside the buffer.
        while i &+ 8 <= bytes.count {
            any |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < bytes.count {
            any |= UInt64(bytes[i])
            i &+= 1
        }
        return any & 0x8080_8080_8080_8080 == 0
    }

    /// The bytes as a `String`, or nil when they are not valid UTF-8 (what `String(validating:as:)` answers). ASCII
    /// is decoded directly: `String(validating:as:)` is generic over the encoding and looks up its metadata at run
    /// time on every call, which cost more than the decoding of a short field.
    package static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        if isASCII(bytes) { return String(decoding: bytes, as: UTF8.self) }
        return String(validating: bytes, as: UTF8.self)
    }
}
