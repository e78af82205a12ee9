/// Reading without building: what the line readers use to check a whole record while decoding only the fields
/// they need.
extension JSONParser.Reader {
    /// A string without escapes or control characters at the cursor: the range between its quotes (UTF-8 is not
    /// checked). Nil, with the cursor unmoved, for anything else.
    package mutating func plainString() -> Range<Int>? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                position = i + 1
                return start..<i
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// Skips the string at the cursor, checking its escapes without decoding them; returns whether it holds one.
    package mutating func skipString() throws(JSONParser.Failure) -> Bool {
        guard take(UInt8(ascii: "\"")) else { throw fail("expected a string") }
        let start = position - 1
        var escaped = false
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return escaped
            }
            if b < 0x20 { throw fail("control character in string") }
            position += 1
            guard b == UInt8(ascii: "\\") else { continue }
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
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        guard position < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "{"):
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
            position += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return }
            while true {
                skipSpace()
                try skipValue(depth: depth + 1)
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of input in array") }
                if take(UInt8(ascii: ",")) { continue }
                if take(UInt8(ascii: "]")) { return }
                throw fail("expected `,` or `]`")
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try numberSpan()
        }
    }
}
