import Foundation

/// A strict, allocation-light JSON parser over UTF-8 bytes producing ``JSONValue``. Rejects duplicate
/// object keys, trailing garbage, nesting deeper than `maxDepth`, and invalid escapes or UTF-8.
///
/// One of the two JSON readers of ScopeGate. This one is general: whole texts become ``JSONValue``s, and its
/// cursor (``Reader``) also serves the readers that pick a few fields out of a record without building the rest
/// (`check --batch` requests, audit events for ``UsageAggregator``, a JSON-RPC message's envelope). The other is
/// `ScopeGateTokens`' `StrictJSON`, which reads JOSE headers and claims into `ClaimValue` (numbers as `Double`,
/// as JWT libraries compare them) and whose failures map to token error codes.
///
/// ```swift
/// let value = try JSONParser().parse(#"{"action":"read","n":2}"#)
/// if case .object(let fields) = value { print(fields["action"] ?? .null) }
/// ```
public struct JSONParser {
    /// Why a text is not acceptable JSON, with the byte offset.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public let offset: Int
        public var description: String { "\(message) at byte \(offset + 1)" }
    }

    public var maxDepth: Int = 64

    public init(maxDepth: Int = 64) { self.maxDepth = maxDepth }

    /// Parses a complete JSON text.
    public func parse(_ text: String) throws(Failure) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, Failure> = copy.withUTF8 { buffer in
            do throws(Failure) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses a complete JSON text from bytes.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        var reader = Reader(bytes: bytes, maxDepth: maxDepth)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.position == bytes.count else {
            throw Failure(message: "unexpected text after the JSON value", offset: reader.position)
        }
        return value
    }

    /// Parses one JSON value that starts at `offset` inside a larger text (no leading space), as if it were nested
    /// `depth` levels deep, and returns it with the offset just past it. For readers that pick a few fields out
    /// of a line themselves (`check --batch`); errors are the same values `parse` throws.
    package func parseValue(in bytes: UnsafeBufferPointer<UInt8>, at offset: Int, depth: Int) throws(Failure) -> (
        value: JSONValue, end: Int
    ) {
        var reader = Reader(bytes: bytes, maxDepth: maxDepth)
        reader.position = offset
        let value = try reader.value(depth: depth)
        return (value, reader.position)
    }

    /// A cursor over one JSON text: builds values (``value(depth:)``), or skips them (``skipValue(depth:)``) and
    /// reads strings and numbers in place, for readers that pick a few fields out of a line.
    package struct Reader {
        package let bytes: UnsafeBufferPointer<UInt8>
        package let maxDepth: Int
        package var position = 0

        package init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        package func fail(_ message: String) -> Failure { Failure(message: message, offset: position) }

        /// Consumes `byte` if it is next.
        package mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        package mutating func skipSpace() {
            while position < bytes.count {
                let b = bytes[position]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                position += 1
            }
        }

        /// Fails when a value nested `depth` levels deep is deeper than `maxDepth` allows.
        @inline(__always)
        package func checkDepth(_ depth: Int) throws(Failure) {
            guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        }

        package mutating func value(depth: Int) throws(Failure) -> JSONValue {
            try checkDepth(depth)
            guard position < bytes.count else { throw fail("unexpected end of input") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default: return try number()
            }
        }

        package mutating func literal(_ word: StaticString) throws(Failure) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("invalid literal") }
            let p = word.utf8Start
            for i in 0..<count where bytes[position + i] != p[i] { throw fail("invalid literal") }
            position += count
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            var result: [String: JSONValue] = [:]  // no storage for `{}`
            try members(depth: depth) { reader, key, keyStart throws(Failure) in
                let value = try reader.value(depth: depth + 1)
                // Room for four keys at once: a dictionary grown from empty is reallocated and rehashed at its
                // second and third key, and most objects of a JSON-RPC request have one to four (those steps are
                // about a quarter of parsing one).
                if result.isEmpty { result = Dictionary(minimumCapacity: 4) }
                if result.updateValue(value, forKey: key) != nil { throw reader.duplicateKey(key, at: keyStart) }
            }
            return .object(result)
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            var result: [JSONValue] = []
            try elements(depth: depth) { reader throws(Failure) in result.append(try reader.value(depth: depth + 1)) }
            return .array(result)
        }

        /// Walks the object at the cursor (its `{`), nested `depth` levels deep: reads each key and calls `member`
        /// with the reader at the key's value (which `member` must read), the key, and the offset of the key's
        /// quote. Checks the punctuation between members; `member` checks what it reads.
        @inline(__always)
        package mutating func members(
            depth: Int, _ member: (inout Reader, String, Int) throws(Failure) -> Void
        ) throws(Failure) {
            position += 1
            skipSpace()
            if take(UInt8(ascii: "}")) { return }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key")
                }
                let keyStart = position
                let key = try string()
                skipSpace()
                guard take(UInt8(ascii: ":")) else { throw fail("expected `:`") }
                skipSpace()
                try member(&self, key, keyStart)
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of input in object") }
                if take(UInt8(ascii: ",")) { continue }
                if take(UInt8(ascii: "}")) { return }
                throw fail("expected `,` or `}`")
            }
        }

        /// Walks the array at the cursor (its `[`), nested `depth` levels deep, calling `element` with the reader
        /// at each element (which `element` must read).
        @inline(__always)
        package mutating func elements(depth: Int, _ element: (inout Reader) throws(Failure) -> Void) throws(Failure) {
            position += 1
            skipSpace()
            if take(UInt8(ascii: "]")) { return }
            while true {
                skipSpace()
                try element(&self)
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of input in array") }
                if take(UInt8(ascii: ",")) { continue }
                if take(UInt8(ascii: "]")) { return }
                throw fail("expected `,` or `]`")
            }
        }

        /// The failure for a key an object already has (JSON readers disagree on which of two values counts, so
        /// ScopeGate takes neither); `keyStart` is the offset of the key's quote.
        package func duplicateKey(_ key: String, at keyStart: Int) -> Failure {
            Failure(message: "duplicate key \"\(key.prefix(64))\"", offset: keyStart)
        }

        mutating func string() throws(Failure) -> String {
            position += 1
            let start = position
            // Fast path: no escapes.
            position = plainRunEnd(from: start)
            if position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    guard let s = UTF8Text.string(slice) else {
                        throw Failure(message: "invalid UTF-8 in string", offset: start)
                    }
                    return s
                }
                if b < 0x20 { throw fail("control character in string") }
            }
            var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") {
                    position += 1
                    guard let s = String(validating: out, as: UTF8.self) else {
                        throw Failure(message: "invalid UTF-8 in string", offset: start)
                    }
                    return s
                }
                if b < 0x20 { throw fail("control character in string") }
                if b != UInt8(ascii: "\\") {
                    out.append(b)
                    position += 1
                    continue
                }
                position += 1
                guard position < bytes.count else { break }
                let e = bytes[position]
                position += 1
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u")
                        else {
                            throw fail("unpaired surrogate")
                        }
                        position += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw fail("unpaired surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("invalid escape")
                }
            }
            throw Failure(message: "unterminated string", offset: start - 1)
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("invalid \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v * 16 + d
                position += 1
            }
            return v
        }

        mutating func number() throws(Failure) -> JSONValue {
            let start = try numberSpan().lowerBound
            // Fast path: an integer of up to 18 digits is exact in Int64.
            if position - start <= 18 {
                var value: Int64 = 0
                var negative = false
                var plain = true
                for i in start..<position {
                    let c = bytes[i]
                    if c == UInt8(ascii: "-") {
                        negative = true
                        continue
                    }
                    guard c >= 0x30 && c <= 0x39 else {
                        plain = false
                        break
                    }
                    value = value * 10 + Int64(c - 0x30)
                }
                if plain { return .number(Decimal(negative ? -value : value)) }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let d = DecimalText.decimal(text) else { throw Failure(message: "invalid number", offset: start) }
            return .number(d)
        }

        /// Reads a number's text (the JSON grammar, at most 64 characters) without converting it: its range.
        package mutating func numberSpan() throws(Failure) -> Range<Int> {
            let start = position
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 else {
                throw fail("invalid value")
            }
            if bytes[position] == 0x30 {
                position += 1
            } else {
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 else {
                    throw fail("invalid number")
                }
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
                {
                    position += 1
                }
                guard position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 else {
                    throw fail("invalid number")
                }
                while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            }
            guard position - start <= 64 else { throw Failure(message: "number too long", offset: start) }
            return start..<position
        }
    }
}
