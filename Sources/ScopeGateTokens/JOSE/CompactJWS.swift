/// A compact JWS split and decoded, but not verified: header and claims parsed strictly, signature bytes kept.
struct CompactJWS: Sendable {
    /// The decoded protected header.
    let header: [String: ClaimValue]
    /// The decoded claims set.
    let claims: [String: ClaimValue]
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers.
    let signingInput: ArraySlice<UInt8>
    /// The decoded signature (may be empty for a token with a stripped signature).
    let signature: [UInt8]

    /// Whether `token` has the shape of a compact JWS (two dots), whatever its content.
    static func looksLikeJWS(_ token: String) -> Bool {
        var dots = 0
        for b in token.utf8 where b == UInt8(ascii: ".") { dots += 1 }
        return dots == 2
    }

    /// Splits and decodes a compact JWS; `maxDepth` bounds JSON nesting.
    static func parse(_ token: String, maxDepth: Int) throws(TokenError) -> CompactJWS {
        let bytes = Array(token.utf8)
        var dots: [Int] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else {
            if dots.count > 2 {
                throw TokenError(.malformed, "not a compact JWS (encrypted or nested tokens are not supported)")
            }
            throw TokenError(.malformed, "not a compact JWS (expected three dot-separated parts)")
        }
        let h = bytes[0..<dots[0]]
        let p = bytes[(dots[0] + 1)..<dots[1]]
        let s = bytes[(dots[1] + 1)...]
        guard !h.isEmpty, !p.isEmpty else { throw TokenError(.malformed, "empty header or payload") }
        guard let headerBytes = Base64URL.decode(h) else { throw TokenError(.malformed, "header is not base64url") }
        guard let payloadBytes = Base64URL.decode(p) else { throw TokenError(.malformed, "payload is not base64url") }
        guard let signature = Base64URL.decode(s) else { throw TokenError(.malformed, "signature is not base64url") }
        let header = try parseObject(headerBytes, maxDepth: maxDepth, what: "header")
        let claims = try parseObject(payloadBytes, maxDepth: maxDepth, what: "payload")
        return CompactJWS(header: header, claims: claims, signingInput: bytes[0..<dots[1]], signature: signature)
    }

    static func parseObject(_ bytes: [UInt8], maxDepth: Int, what: String) throws(TokenError) -> [String: ClaimValue] {
        do {
            return try StrictJSON.parseObject(bytes, maxDepth: maxDepth)
        } catch .duplicateKey {
            throw TokenError(.duplicateKey, "\(what) repeats a JSON key")
        } catch .tooDeep {
            throw TokenError(.tooDeep, "\(what) nests deeper than \(maxDepth) levels")
        } catch {
            throw TokenError(.malformed, "\(what) is not a JSON object")
        }
    }
}
