import Foundation

/// Exact comparison of `Decimal`s without Foundation's general path.
///
/// `Decimal`'s `<` and `==` convert both operands to variable-length integer arrays (two heap allocations and
/// ~150 ns per comparison), which made a numeric `when` condition the most expensive step of a decision. Most
/// numbers in tool arguments and policies have a mantissa that fits in 64 bits; for those this compares sign,
/// then the mantissas aligned to a common exponent (a scaled mantissa that overflows 64 bits is larger than any
/// unscaled one), exactly.
///
/// The mantissa is not public API, so it is read from the value's bytes — but only after ``layoutVerified`` has
/// checked, once per process, that this Foundation lays `Decimal` out as expected (swift-foundation: exponent
/// byte, flags byte with the length in the high nibble and the sign in bit 3, then eight little-endian 16-bit
/// mantissa words). On any other layout, and for NaN or wider mantissas, it defers to Foundation.
enum DecimalCompare {
    struct Parts: Equatable {
        var negative: Bool
        var mantissa: UInt64
        var exponent: Int
    }

    /// Sign, mantissa and exponent when the mantissa fits in 64 bits; nil for NaN, wider mantissas or a layout
    /// that failed verification.
    static func parts(_ d: Decimal) -> Parts? {
        guard layoutVerified else { return nil }
        return rawParts(d)
    }

    static func rawParts(_ d: Decimal) -> Parts? {
        withUnsafeBytes(of: d) { raw -> Parts? in
            guard raw.count == 20 else { return nil }
            let exponent = Int(Int8(bitPattern: raw[0]))
            let flags = raw[1]
            let length = Int(flags >> 4)
            let negative = flags & 0x08 != 0
            if length == 0 { return negative ? nil : Parts(negative: false, mantissa: 0, exponent: 0) }
            guard length <= 4 else { return nil }
            var mantissa: UInt64 = 0
            for w in 0..<length {
                let word = UInt64(raw[4 + 2 * w]) | UInt64(raw[5 + 2 * w]) << 8
                mantissa |= word << UInt64(16 * w)
            }
            return Parts(negative: negative, mantissa: mantissa, exponent: exponent)
        }
    }

    /// Whether the byte layout read by ``rawParts(_:)`` matches this Foundation's `Decimal`, checked on values
    /// whose parts are known.
    static let layoutVerified: Bool = {
        let cases: [(String, Parts?)] = [
            ("12", Parts(negative: false, mantissa: 12, exponent: 0)),
            ("-1.5", Parts(negative: true, mantissa: 15, exponent: -1)),
            ("0.001", Parts(negative: false, mantissa: 1, exponent: -3)),
            ("123456789012345678", Parts(negative: false, mantissa: 123_456_789_012_345_678, exponent: 0)),
            ("-70000", Parts(negative: true, mantissa: 7, exponent: 4)),
        ]
        for (text, expected) in cases {
            guard let d = DecimalText.decimal(text) else { return false }
            guard let got = rawParts(d) else { return false }
            // The exponent/mantissa split may differ (Foundation may or may not strip trailing zeros): compare values.
            guard let expected, got.negative == expected.negative,
                compareMagnitude(got, expected) == 0
            else { return false }
        }
        return true
    }()

    /// -1, 0 or 1 comparing |a| with |b|.
    static func compareMagnitude(_ a: Parts, _ b: Parts) -> Int {
        if a.mantissa == 0 || b.mantissa == 0 {
            return a.mantissa == b.mantissa ? 0 : (a.mantissa == 0 ? -1 : 1)
        }
        if a.exponent == b.exponent { return a.mantissa == b.mantissa ? 0 : (a.mantissa < b.mantissa ? -1 : 1) }
        // Scale the one with the larger exponent down to the other's.
        let (hi, lo, sign) = a.exponent > b.exponent ? (a, b, 1) : (b, a, -1)
        var scaled = hi.mantissa
        var steps = hi.exponent - lo.exponent
        while steps > 0 {
            let (product, overflow) = scaled.multipliedReportingOverflow(by: 10)
            if overflow { return sign }  // |hi| > UInt64.max ≥ |lo|
            scaled = product
            steps -= 1
        }
        if scaled == lo.mantissa { return 0 }
        return scaled > lo.mantissa ? sign : -sign
    }

    /// -1, 0 or 1 comparing `a` with `b`, exactly.
    static func compare(_ a: Decimal, _ b: Decimal) -> Int {
        if let pa = parts(a), let pb = parts(b) {
            let za = pa.mantissa == 0
            let zb = pb.mantissa == 0
            if za && zb { return 0 }
            let na = pa.negative && !za
            let nb = pb.negative && !zb
            if na != nb { return na ? -1 : 1 }
            let m = compareMagnitude(pa, pb)
            return na ? -m : m
        }
        return a == b ? 0 : (a < b ? -1 : 1)
    }
}
