/// Reading without building: what the line readers use to check a whole record while decoding only the fields
/// they need.
extension JSONParser.Reader {
    /// The index of the first byte at or after `start` that ends a plain run of string content: a quote, a
    /// backslash or a control character (below 0x20); `bytes.count` when there is none. Eight bytes at a time: the
    /// string readers spent most of a batch line's reading here when they tested a byte per step.
    @inline(__always)
    package func plainRunEnd(from start: Int) -> Int {
        var i = start
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101
            while i &+ 8 <= bytes.count {
                // Reads bytes i ..< i + 8, inside the buffer. A byte's high bit is set in `hits` when it is a quote
                // (zero after the xor), a backslash (likewise) or below 0x20; a borrow can also mark bytes above
                // one of those, never below, so the lowest marked byte is the first match.
                let x = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                let quote = x ^ (ones &* 0x22)
                let backslash = x ^ (ones &* 0x5C)
                let hits =
                    ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (x &- ones &* 0x20) & ~x)
                    & (ones &* 0x80)
                if hits != 0 { return i &+ hits.trailingZeroBitCount &>> 3 }
                i &+= 8
            }
        }
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { return i }
            i &+= 1
        }
        return i
    }

    /// A string without escapes or control characters at the cursor: the range between its quotes (UTF-8 is not
    /// checked). Nil, with the cursor unmoved, for anything else.
    package mutating func plainString() -> Range<Int>? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        let end = plainRunEnd(from: start)
        guard end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        position = end + 1
        return start..<end
    }

    /// Skips the string at the cursor, checking its escapes without decoding them; returns whether it holds one.
    package mutating func skipString() throws(JSONParser.Failure) -> Bool {
        guard take(UInt8(ascii: "\"")) else { throw fail("expected a string") }
        let start = position - 1
        var escaped = false
        while position < bytes.count {
            position = plainRunEnd(from: position)
            guard position < bytes.count else { break }
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return escaped
            }
            if b < 0x20 { throw fail("control character in string") }
            position += 1  // past the backslash
            escaped = true
            guard position < bytes.count else { break }
            switch bytes[position] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                position += 1
            case UInt8(ascii: "u"):
                position += 1
                _ = try hex4()
            default: throw fail("invalid escape")
            }
        }
        throw JSONParser.Failure(message: "unterminated string", offset: start)
    }

    /// Skips the value at the cursor (nested `depth` levels deep), checking its grammar and depth. Skipped objects
    /// are not checked for duplicate keys, nor skipped strings for valid UTF-8: nothing reads them.
    package mutating func skipValue(depth: Int) throws(JSONParser.Failure) {
        try checkDepth(depth)
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "{"):
            // Not `members(depth:_:)`, which decodes each key: a skipped key is only checked.
            position += 1
            skipSpace()
            if take(UInt8(ascii: "}")) { return }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key")
                }
                _ = try skipString()
                skipSpace()
                guard take(UInt8(ascii: ":")) else { throw fail("expected `:`") }
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of input in object") }
                if take(UInt8(ascii: ",")) { continue }
                if take(UInt8(ascii: "}")) { return }
                throw fail("expected `,` or `}`")
            }
        case UInt8(ascii: "["):
            try elements(depth: depth) { reader throws(JSONParser.Failure) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberSpan()
        }
    }
}
