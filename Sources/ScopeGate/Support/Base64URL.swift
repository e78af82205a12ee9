/// Strict base64url (RFC 4648 §5) without padding, as JWS requires (RFC 7515 §2).
///
/// Refuses padding, whitespace, the `+`/`/` alphabet, an impossible length, and non-zero trailing bits, so every
/// byte string has exactly one accepted encoding (no signature-preserving token malleability). The one base64url of
/// the package: tokens (`ScopeGateTokens`) and signed policy bundles (`ScopeGateBundles`) use it.
///
/// ```swift
/// Base64URL.encode(Array("hi".utf8))   // "aGk"
/// Base64URL.decode("aGk=")              // nil: padding is refused
/// ```
package enum Base64URL {
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Decodes, or returns `nil` when the input is not canonical unpadded base64url.
    package static func decode(_ input: some Collection<UInt8>) -> [UInt8]? {
        if let result = input.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return result }
        return Array(input).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    /// The decoder proper, over contiguous bytes: four characters at a time into three bytes, writing into the
    /// result's storage directly: a per-byte `append`, bounds checks and a lazily initialised table's `swift_once`
    /// would be a noticeable share of a whole token verification.
    package static func decode(buffer input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let count = input.count
        if count % 4 == 1 { return nil }
        let outCount = count / 4 * 3 + (count % 4 == 0 ? 0 : count % 4 - 1)
        return table.withUnsafeBufferPointer { table -> [UInt8]? in
            var valid = true
            let out = [UInt8](unsafeUninitializedCapacity: outCount) { out, initialized in
                var i = 0
                var o = 0
                while i &+ 4 <= count {
                    let a = table[Int(input[i])]
                    let b = table[Int(input[i &+ 1])]
                    let c = table[Int(input[i &+ 2])]
                    let d = table[Int(input[i &+ 3])]
                    if (a | b | c | d) == 0xFF {
                        valid = false
                        break
                    }
                    let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: v >> 16)
                    out[o &+ 1] = UInt8(truncatingIfNeeded: v >> 8)
                    out[o &+ 2] = UInt8(truncatingIfNeeded: v)
                    i &+= 4
                    o &+= 3
                }
                let rest = count &- i
                if valid && rest > 0 {
                    var v: UInt32 = 0
                    for k in 0..<rest {
                        let x = table[Int(input[i &+ k])]
                        if x == 0xFF {
                            valid = false
                            break
                        }
                        v = v << 6 | UInt32(x)
                    }
                    if valid {
                        if rest == 2 {
                            // 12 bits: one byte, the low 4 bits must be zero (canonical encoding).
                            if v & 0xF != 0 {
                                valid = false
                            } else {
                                out[o] = UInt8(truncatingIfNeeded: v >> 4)
                                o &+= 1
                            }
                        } else {
                            // 18 bits: two bytes, the low 2 bits must be zero.
                            if v & 0x3 != 0 {
                                valid = false
                            } else {
                                out[o] = UInt8(truncatingIfNeeded: v >> 10)
                                out[o &+ 1] = UInt8(truncatingIfNeeded: v >> 2)
                                o &+= 2
                            }
                        }
                    }
                }
                initialized = valid ? o : 0
            }
            return valid ? out : nil
        }
    }

    /// Decodes a string.
    package static func decode(_ s: String) -> [UInt8]? { decode(Array(s.utf8)) }

    /// Encodes without padding.
    package static func encode(_ bytes: some Collection<UInt8>) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var acc: UInt32 = 0
        var bits = 0
        for b in bytes {
            acc = (acc << 8) | UInt32(b)
            bits += 8
            while bits >= 6 {
                bits -= 6
                out.append(alphabet[Int((acc >> UInt32(bits)) & 0x3F)])
            }
            acc &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(alphabet[Int((acc << UInt32(6 - bits)) & 0x3F)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
