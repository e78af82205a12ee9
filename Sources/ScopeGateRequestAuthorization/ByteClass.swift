/// Byte classes of RFC 9110's grammar, for every reader and writer of HTTP fields in the gateways: the decision
/// service's head reader and answer writer, the bearer-token reader, the header value encoding.
///
/// ```swift
/// ByteClass.isToken(UInt8(ascii: "-"))     // true: a method or field name may hold it
/// ByteClass.isFieldValue(0x0D)             // false: no CR in a value
/// ```
package enum ByteClass {
    /// `tchar`: what a method or a field name is made of (letters, digits and ``!#$%&'*+-.^_`|~``), as a bit per
    /// byte below 128.
    @inline(__always)
    package static func isToken(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0x03ff_6cfa_0000_0000
        let high: UInt64 = 0x57ff_ffff_c7ff_fffe
        // Masking shifts (`&<<`): the byte is known to be in range, so no test for a shift past the width.
        if byte < 64 { return low & (1 &<< UInt64(byte)) != 0 }
        return byte < 128 && high & (1 &<< UInt64(byte &- 64)) != 0
    }

    /// Where the run of ``isToken(_:)`` bytes that starts at `start` ends: a reader in another module scans a name
    /// with one call, where it would make one per byte (`package` functions are not inlined across modules).
    package static func tokenEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        guard let base = bytes.baseAddress else { return start }
        var end = start
        while end < bytes.count, isToken(base.load(fromByteOffset: end, as: UInt8.self)) { end += 1 }
        return end
    }

    /// Visible ASCII: what a request target is made of.
    package static func isVisible(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    /// Space or horizontal tab: the optional whitespace around field values and list items.
    package static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// `bytes` without the ``isBlank(_:)`` bytes at either end (empty when there is nothing else).
    package static func trimmingBlanks<Bytes: BidirectionalCollection<UInt8>>(_ bytes: Bytes) -> Bytes.SubSequence {
        // Index steps rather than `firstIndex(where:)` and `lastIndex(where:)`: the head reader trims every field
        // value, and the closures' calls were most of the cost.
        var (start, end) = (bytes.startIndex, bytes.endIndex)
        while start < end, isBlank(bytes[start]) { bytes.formIndex(after: &start) }
        while start < end {
            let last = bytes.index(before: end)
            guard isBlank(bytes[last]) else { break }
            end = last
        }
        return bytes[start..<end]
    }

    /// ``trimmingBlanks(_:)`` of `bytes[range]`, as positions in `bytes`, for the readers that keep positions (the
    /// head reader, once per field value). Not generic, so a reader in another module calls it specialized.
    package static func trimmingBlanks(_ bytes: UnsafeRawBufferPointer, in range: Range<Int>) -> Range<Int> {
        let trimmed = trimmingBlanks(bytes[range])
        return trimmed.startIndex..<trimmed.endIndex
    }

    /// What a field value may hold: visible ASCII, space, tab and `obs-text` (≥ 0x80); never CR, LF, NUL or another
    /// control.
    @inline(__always)
    package static func isFieldValue(_ byte: UInt8) -> Bool { (byte >= 0x20 && byte != 0x7F) || byte == 0x09 }

    /// Whether every byte is ``isFieldValue(_:)``: without an early exit, so the loop is vectorized (a bearer token
    /// is most of a head's bytes).
    package static func allFieldValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // `||` would branch per byte; each test is a 0 or 1 combined with `|` and `&`.
        var bad: UInt8 = 0
        for byte in bytes {
            let control: UInt8 = (byte < 0x20 ? 1 : 0) & (byte != 0x09 ? 1 : 0)
            bad |= control | (byte == 0x7F ? 1 : 0)
        }
        return bad == 0
    }
}
