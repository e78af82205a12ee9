import Foundation

/// JSON parsing for untrusted input: a small recursive-descent parser (RFC 8259 grammar, no duplicate object keys
/// after unescaping, bounded nesting, numbers as `Double` and refused when not finite) that builds the
/// ``ClaimValue`` directly, without an intermediate tree or decoder (this is on every uncached token
/// verification).
///
/// `JSONSerialization`/`JSONDecoder` silently keep the last of duplicate keys, which lets two parsers disagree
/// about a token (`{"aud":"a","aud":"b"}`); so duplicates are an error here.
///
/// One of the two JSON readers of ScopeGate. The core's `JSONParser` reads policies' arguments, requests and
/// records into `JSONValue` (numbers as `Decimal`, errors as messages with byte offsets); this one reads JOSE
/// headers and claims into ``ClaimValue``, with numbers as `Double` (how JWT libraries and issuers treat `exp`,
/// `nbf` and `iat`) and failures that map to token error codes. Converting from `JSONValue` would build every
/// token twice and change how numbers round.
///
/// ```swift
/// let claims = try StrictJSON.parseObject(Array(#"{"sub":"bot","exp":1767225600}"#.utf8), maxDepth: 16)
/// ```
enum StrictJSON {
    enum Failure: Error, Equatable {
        case syntax
        case duplicateKey
        case tooDeep
    }

    /// Parses `bytes` into a ``ClaimValue`` or fails with a ``Failure``.
    static func parse(_ bytes: [UInt8], maxDepth: Int) throws(Failure) -> ClaimValue {
        var parser = Checker(bytes: bytes, maxDepth: maxDepth)
        return try parser.document()
    }

    /// Parses and requires a top-level object.
    static func parseObject(_ bytes: [UInt8], maxDepth: Int) throws(Failure) -> [String: ClaimValue] {
        guard case .object(let o) = try parse(bytes, maxDepth: maxDepth) else { throw .syntax }
        return o
    }

    struct Checker {
        let bytes: [UInt8]
        let maxDepth: Int
        var i = 0

        init(bytes: [UInt8], maxDepth: Int) {
            self.bytes = bytes
            self.maxDepth = maxDepth
        }

        mutating func document() throws(Failure) -> ClaimValue {
            skipWhitespace()
            let result = try value(depth: 0)
            skipWhitespace()
            guard i == bytes.count else { throw .syntax }
            return result
        }

        mutating func skipWhitespace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
                i += 1
            }
        }

        mutating func value(depth: Int) throws(Failure) -> ClaimValue {
            guard i < bytes.count else { throw .syntax }
            switch bytes[i] {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
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
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            let expected = Array(word.utf8)
            guard i + expected.count <= bytes.count else { throw .syntax }
            for k in 0..<expected.count where bytes[i + k] != expected[k] { throw .syntax }
            i += expected.count
        }

        mutating func object(depth: Int) throws(Failure) -> ClaimValue {
            guard depth <= maxDepth else { throw .tooDeep }
            i += 1
            // A JWT header or claims set: no rehashing while it grows. `minimumCapacity` allocates once; a
            // `reserveCapacity` on an empty dictionary went through the unspecialized resize path, which looked
            // generic metadata up at run time on every object.
            var members = [String: ClaimValue](minimumCapacity: 8)
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw .syntax }
                let key = try string()
                skipWhitespace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw .syntax }
                i += 1
                skipWhitespace()
                let member = try value(depth: depth)
                guard members.updateValue(member, forKey: key) == nil else { throw .duplicateKey }
                skipWhitespace()
                guard i < bytes.count else { throw .syntax }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object(members)
                }
                throw .syntax
            }
        }

        mutating func array(depth: Int) throws(Failure) -> ClaimValue {
            guard depth <= maxDepth else { throw .tooDeep }
            i += 1
            var elements: [ClaimValue] = []
            skipWhitespace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth))
                skipWhitespace()
                guard i < bytes.count else { throw .syntax }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                if bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(elements)
                }
                throw .syntax
            }
        }

        /// Reads a string starting at the opening quote and returns its unescaped value.
        mutating func string() throws(Failure) -> String {
            i += 1
            // Fast path: no escapes, so the value is the bytes up to the closing quote.
            let start = i
            var ascii = true
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    let end = i
                    i += 1
                    // ASCII needs no validation, and decoding from a buffer pointer is specialized; the generic
                    // `String(validating:)` over an array slice resolved generic metadata at run time on every
                    // call (a tenth of an uncached verification). Non-ASCII text is still validated strictly.
                    if ascii {
                        return bytes.withUnsafeBufferPointer {
                            String(decoding: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self)
                        }
                    }
                    guard let s = String(validating: bytes[start..<end], as: UTF8.self) else { throw .syntax }
                    return s
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { break }
                if b >= 0x80 { ascii = false }
                i += 1
            }
            i = start
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            func flush() throws(Failure) {
                if raw.isEmpty { return }
                guard let s = String(validating: raw, as: UTF8.self) else { throw .syntax }
                scalars.append(contentsOf: s.unicodeScalars)
                raw.removeAll(keepingCapacity: true)
            }
            while true {
                guard i < bytes.count else { throw .syntax }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    try flush()
                    return String(scalars)
                }
                if b < 0x20 { throw .syntax }
                if b != UInt8(ascii: "\\") {
                    raw.append(b)
                    i += 1
                    continue
                }
                try flush()
                i += 1
                guard i < bytes.count else { throw .syntax }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    let high = try hex4()
                    if (0xD800...0xDBFF).contains(high) {
                        guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u")
                        else {
                            throw .syntax
                        }
                        i += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low),
                            let s = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                        else { throw .syntax }
                        scalars.append(s)
                    } else {
                        guard let s = Unicode.Scalar(high) else { throw .syntax }  // lone low surrogate
                        scalars.append(s)
                    }
                default: throw .syntax
                }
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= bytes.count else { throw .syntax }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: throw .syntax
                }
                v = v << 4 | UInt32(d)
                i += 1
            }
            return v
        }

        /// A number literal as `Double` (correctly rounded by the standard library); literals that overflow to
        /// infinity are refused, as `JSONDecoder` refused them.
        mutating func number() throws(Failure) -> Double {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { throw .syntax }
            if bytes[i] == UInt8(ascii: "0") {
                i += 1
            } else {
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard i < bytes.count, isDigit(bytes[i]) else { throw .syntax }
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < bytes.count, isDigit(bytes[i]) else { throw .syntax }
                while i < bytes.count, isDigit(bytes[i]) { i += 1 }
            }
            guard i - start <= 64 else { throw .syntax }  // absurd number literals
            // Non-negative integers of up to 15 digits (every `exp`, `iat`, `nbf`) are exact in a Double: no
            // string and no strtod. Everything else goes through the standard library's correctly rounded parse.
            if i - start <= 15, bytes[start] != UInt8(ascii: "-") {
                var value = 0
                var integral = true
                for k in start..<i {
                    let b = bytes[k]
                    guard isDigit(b) else {
                        integral = false
                        break
                    }
                    value = value &* 10 &+ Int(b &- UInt8(ascii: "0"))
                }
                if integral { return Double(value) }
            }
            guard let value = Double(String(decoding: bytes[start..<i], as: UTF8.self)), value.isFinite else {
                throw .syntax
            }
            return value
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    }
}
