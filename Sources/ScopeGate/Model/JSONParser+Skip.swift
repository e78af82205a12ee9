import Foundation

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

/// Checking without building: what a reader uses to take a few members out of an object and check the rest as
/// strictly as ``JSONParser/Reader/value(depth:)`` would, without making a value of it. Each returns false, with
/// the cursor anywhere, for what it leaves to `value(depth:)`: keys or strings with escapes or bytes above ASCII,
/// objects of more than ``plainMemberLimit`` members, and every fault. The caller then reads the text again from
/// where it started with `value(depth:)`, which accepts or refuses it (and says why) exactly as it always does.
extension JSONParser.Reader {
    /// The most members ``plainMembers(depth:_:)`` compares keys for; larger objects are left to `value(depth:)`.
    package static let plainMemberLimit = 16

    /// Walks the object at the cursor (its `{`), nested `depth` levels deep, whose keys are plain ASCII and
    /// distinct, calling `member` with the reader at each key's value (which `member` must read) and the key's
    /// range in `bytes`. False when `member` does, or for anything it leaves to `value(depth:)` (see above).
    package mutating func plainMembers(depth: Int, _ member: (inout Self, Range<Int>) -> Bool) -> Bool {
        guard depth <= maxDepth, position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return false }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: Self.plainMemberLimit) { keys in
            position += 1
            skipSpace()
            if take(UInt8(ascii: "}")) { return true }
            var count = 0
            while true {
                skipSpace()
                guard count < Self.plainMemberLimit, let key = plainString(),
                    UTF8Text.isASCII(UnsafeBufferPointer(rebasing: bytes[key]))
                else { return false }
                for i in 0..<count where equal(keys[i], key) { return false }
                keys[count] = key
                count += 1
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard member(&self, key) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}"))
            }
        }
    }

    /// Whether the bytes in `a` and `b` are the same.
    @inline(__always)
    package func equal(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        guard a.count == b.count, let base = bytes.baseAddress else { return a.count == b.count }
        return memcmp(base + a.lowerBound, base + b.lowerBound, a.count) == 0
    }

    /// Whether the bytes in `range` are `word`'s.
    @inline(__always)
    package func bytes(in range: Range<Int>, equal word: StaticString) -> Bool {
        guard range.count == word.utf8CodeUnitCount, let base = bytes.baseAddress else { return false }
        return memcmp(base + range.lowerBound, word.utf8Start, range.count) == 0
    }

    /// Skips the value at the cursor, nested `depth` levels deep, having checked it as `value(depth:)` would
    /// (grammar, depth, duplicate keys, UTF-8); false for what it leaves to `value(depth:)` (see above).
    package mutating func skipPlainValue(depth: Int) -> Bool {
        guard depth <= maxDepth, position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            guard let range = plainString() else { return false }
            return UTF8Text.isASCII(UnsafeBufferPointer(rebasing: bytes[range]))
        case UInt8(ascii: "{"):
            return plainMembers(depth: depth) { reader, _ in reader.skipPlainValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            position += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return true }
            while true {
                skipSpace()
                guard skipPlainValue(depth: depth + 1) else { return false }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "]"))
            }
        default:
            do throws(JSONParser.Failure) {
                switch bytes[position] {
                case UInt8(ascii: "t"): try literal("true")
                case UInt8(ascii: "f"): try literal("false")
                case UInt8(ascii: "n"): try literal("null")
                default:
                    // An integer of up to 18 digits, which `value(depth:)` always takes; a fraction or an
                    // exponent is converted there, and may be refused (out of range).
                    let span = try numberSpan()
                    return span.count <= 18 && !bytes[span].contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == 0x65 }
                }
                return true
            } catch {
                return false
            }
        }
    }
}
