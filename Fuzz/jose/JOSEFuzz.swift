import Foundation

@testable import ScopeGate

// Target `jose`: the untrusted-bytes front of the token verifier — size check, compact-JWS split, strict
// base64url, strict JSON (duplicate keys, depth) for header and claims — compiled from
// Sources/ScopeGateTokens/JOSE/{CompactJWS,StrictJSON,ClaimValue}.swift and Support/TokenError.swift (base64url is the
// core's `Base64URL`).
// Signature checking (jwt-kit + swift-crypto/BoringSSL) is not built here: see docs/reliability.md.
// Invariants:
//  - base64url is canonical: whatever decodes re-encodes to the same text;
//  - a parsed token's signing input is exactly the text before the second dot;
//  - the same bytes as a bare JSON document: StrictJSON never accepts a duplicate key or too-deep nesting that
//    the core JSONParser reports as such (both are meant to be strict in the same way).

@_cdecl("LLVMFuzzerTestOneInput")
public func joseFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let decoded = Base64URL.decode(bytes) {
        Fuzz.check(Array(Base64URL.encode(decoded).utf8) == bytes, "base64url is not canonical for \(bytes.prefix(64))")
    }
    let token = String(decoding: bytes, as: UTF8.self)
    if token.utf8.count <= 16 * 1024, let jws = try? CompactJWS.parse(token, maxDepth: 16) {
        let text = Array(token.utf8)
        let secondDot = text.indices.filter { text[$0] == UInt8(ascii: ".") }.dropFirst().first
        Fuzz.check(
            secondDot.map { Array(text[..<$0]) == Array(jws.signingInput) } ?? false,
            "signing input is not header.payload")
    }
    // StrictJSON vs the core parser on the same bytes.
    let strict = Result { () throws(StrictJSON.Failure) in try StrictJSON.parse(bytes, maxDepth: 16) }
    let core = bytes.withUnsafeBufferPointer { buffer in
        Result { () throws(JSONParser.Failure) in try JSONParser(maxDepth: 16).parse(buffer) }
    }
    if case .success = strict, case .failure(let failure) = core {
        Fuzz.check(
            !failure.message.hasPrefix("duplicate key"),
            "StrictJSON accepted a duplicate key the core parser rejects: \(token.prefix(200))")
    }
    return 0
}
