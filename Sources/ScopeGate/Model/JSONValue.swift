import Foundation

/// A JSON value, as found in tool-call arguments and condition literals. Numbers are exact decimals.
///
/// ```swift
/// let arguments: [String: JSONValue] = ["path": .string("/tmp/x"), "recursive": .bool(true)]
/// arguments["path"]?.typeName   // "string"
/// ```
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON type name (`null`, `boolean`, `number`, `string`, `array`, `object`).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Compact JSON text of this value (object keys sorted, for stable output).
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += JSONText.number(n)
        case .string(let s): JSONText.writeString(s, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(to: &out)
            }
            out += "]"
        case .object(let object):
            out += "{"
            for (i, key) in object.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONText.writeString(key, to: &out)
                out += ":"
                object[key]?.write(to: &out)
            }
            out += "}"
        }
    }
}

/// Minimal JSON text helpers used by every renderer, so escaping is done one way everywhere.
///
/// ```swift
/// var out: [UInt8] = []
/// JSONText.writeString("say \"hi\"", to: &out)   // "say \"hi\"" with the quotes escaped
/// JSONText.array(["a", "b"])                      // ["a","b"]
/// ```
public enum JSONText {
    /// `d` as JSON number text that ``JSONParser`` reads back (it takes numbers of at most 64 characters):
    /// `Decimal`'s plain digits when they fit, else its significant digits and an exponent. A `Decimal` holds at
    /// most 38 significant digits, but its plain text runs to over 100 characters (`3.3e66` has 67 digits), so a
    /// request's numeric `id` echoed in plain digits could make a record that ScopeGate itself cannot read.
    ///
    /// ```swift
    /// JSONText.number(Decimal(string: "1.5")!)     // "1.5"
    /// JSONText.number(Decimal(string: "33e65")!)   // "33e65"
    /// ```
    public static func number(_ d: Decimal) -> String {
        let plain = d.description
        guard plain.utf8.count > 64 else { return plain }
        var negative = false
        var digits: [UInt8] = []
        var point: Int?
        for byte in plain.utf8 {
            switch byte {
            case UInt8(ascii: "-"): negative = true
            case UInt8(ascii: "."): point = digits.count
            default: digits.append(byte)
            }
        }
        // The value is `digits` × 10^exponent; zeros at either end are dropped (those at the end raise the exponent).
        var exponent = (point ?? digits.count) - digits.count
        while digits.count > 1, digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        if let first = digits.firstIndex(where: { $0 != UInt8(ascii: "0") }) { digits.removeFirst(first) }
        var out = negative ? "-" : ""
        out += String(decoding: digits, as: UTF8.self)
        if exponent != 0 { out += "e\(exponent)" }
        return out
    }

    /// Appends `s` as a JSON string literal (quotes included) to `out`.
    public static func writeString(_ s: String, to out: inout String) {
        out += "\""
        // Copy runs of bytes that need no escaping in one append; escape the rest (all ASCII, so the
        // indices are scalar boundaries).
        let utf8 = s.utf8
        var runStart = utf8.startIndex
        var i = runStart
        while i < utf8.endIndex {
            let b = utf8[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else {
                i = utf8.index(after: i)
                continue
            }
            out += s[runStart..<i]
            switch b {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            default:
                let hex = String(b, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            i = utf8.index(after: i)
            runStart = i
        }
        out += s[runStart..<utf8.endIndex]
        out += "\""
    }

    /// Appends `s` as a JSON string literal (quotes included) to a byte buffer; the same escaping as
    /// the `String` variant.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { writeEscaped($0, to: &out) }
        out.append(0x22)
    }

    /// Appends the UTF-8 text `utf8` escaped for the inside of a JSON string literal (no quotes): what
    /// `writeString(_:to:)` writes between the quotes. Runs that need no escaping are copied whole.
    public static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var runStart = 0
        for i in 0..<utf8.count {
            let b = utf8[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            out.append(0x5C)
            switch b {
            case 0x22, 0x5C: out.append(b)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                func hex(_ d: UInt8) -> UInt8 { d < 10 ? 0x30 + d : UInt8(ascii: "a") + d - 10 }
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hex(b >> 4))
                out.append(hex(b & 0xF))
            }
            runStart = i + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
    }

    /// Appends the decimal digits of `n` to a byte buffer (`String(n)`'s bytes).
    public static func writeInteger(_ n: Int, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { buffer in
            let count = writeDecimal(n, into: buffer)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Writes `String(n)`'s bytes at the start of `buffer` and returns their count (at most 20: `Int.min` is a
    /// sign and 19 digits); writes nothing and returns 0 when `buffer` is shorter than 20 bytes.
    package static func writeDecimal(_ n: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard buffer.count >= 20 else { return 0 }
        var magnitude = n.magnitude
        // Digits fill the buffer from its 20th byte backwards, then move to its start.
        var first = 20
        repeat {
            first -= 1
            buffer[first] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
            magnitude /= 10
        } while magnitude > 0
        if n < 0 {
            first -= 1
            buffer[first] = UInt8(ascii: "-")
        }
        let count = 20 - first
        if first > 0, let base = buffer.baseAddress { base.copyMemory(from: base + first, byteCount: count) }
        return count
    }

    /// `s` as a JSON string literal.
    public static func quote(_ s: String) -> String {
        var out = ""
        writeString(s, to: &out)
        return out
    }

    /// A JSON array of strings.
    public static func array(_ items: [String]) -> String {
        "[" + items.map(quote).joined(separator: ",") + "]"
    }
}
