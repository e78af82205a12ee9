import ScopeGate

/// A compact JWS split and decoded, but not verified: header and claims parsed strictly, signature bytes kept.
struct CompactJWS: Sendable {
    /// The decoded protected header.
    let header: [String: ClaimValue]
    /// The decoded claims set.
    let claims: [String: ClaimValue]
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: the bytes the signature covers. An array, not a slice of
    /// the token: jwt-kit hashes it through generic `DataProtocol` code, which resolved metadata for the slice
    /// type at run time on every verification.
    let signingInput: [UInt8]
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
        var token = token
        let result = token.withUTF8 { bytes in
            Result { () throws(TokenError) -> CompactJWS in try parse(bytes: bytes, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(TokenError) -> CompactJWS {
        var first = -1
        var second = -1
        var extra = false
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: ".") {
                if first < 0 {
                    first = i
                } else if second < 0 {
                    second = i
                } else {
                    extra = true
                    break
                }
            }
            i &+= 1
        }
        guard second >= 0, !extra else {
            if extra {
                throw TokenError(.malformed, "not a compact JWS (encrypted or nested tokens are not supported)")
            }
            throw TokenError(.malformed, "not a compact JWS (expected three dot-separated parts)")
        }
        let h = UnsafeBufferPointer(rebasing: bytes[0..<first])
        let p = UnsafeBufferPointer(rebasing: bytes[(first + 1)..<second])
        let s = UnsafeBufferPointer(rebasing: bytes[(second + 1)...])
        guard !h.isEmpty, !p.isEmpty else { throw TokenError(.malformed, "empty header or payload") }
        guard let headerBytes = Base64URL.decode(buffer: h) else {
            throw TokenError(.malformed, "header is not base64url")
        }
        guard let payloadBytes = Base64URL.decode(buffer: p) else {
            throw TokenError(.malformed, "payload is not base64url")
        }
        guard let signature = Base64URL.decode(buffer: s) else {
            throw TokenError(.malformed, "signature is not base64url")
        }
        let header = try parseObject(headerBytes, maxDepth: maxDepth, what: "header")
        let claims = try parseObject(payloadBytes, maxDepth: maxDepth, what: "payload")
        return CompactJWS(
            header: header, claims: claims, signingInput: Array(UnsafeBufferPointer(rebasing: bytes[0..<second])),
            signature: signature)
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
