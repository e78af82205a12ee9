import Foundation
import JWTKit
import ScopeGate

/// A parsed JSON Web Key Set (RFC 7517) holding public verification keys only.
///
/// Each key is bound to the algorithms that fit it: its own `alg` when the JWK names one, otherwise every JWS
/// algorithm of its key type and curve (RSA → `RS*`/`PS*`, EC P-256/P-384/P-521 → `ES256`/`ES384`/`ES512`,
/// OKP Ed25519 → `EdDSA`). A verifier is built per (key, algorithm) up front, so a key without `alg` is never
/// "locked" to whichever algorithm the first token claimed (a jwt-kit behaviour this type avoids).
/// Symmetric (`oct`) keys, encryption keys (`use: enc`) and unknown key types are ignored.
///
/// ```swift
/// let keys = try await JWKSet.load(contentsOfFile: "jwks.json")
/// print(keys.keys.map { "\($0.kid ?? "-"): \($0.algorithms)" }, "ignored:", keys.ignoredCount)
/// let verifier = TokenVerifier(config: tokens, resource: resource, staticKeys: ["https://auth.example.com": keys])
/// ```
public struct JWKSet: Sendable {
    /// One usable public key.
    ///
    /// ```swift
    /// for key in keySet.keys where key.kty == "RSA" {
    ///     print(key.kid ?? "-", key.algorithms)                // e.g. ["PS256", "PS384", …, "RS512"]
    /// }
    /// ```
    public struct Key: Sendable {
        /// The key id, if the JWK has one.
        public let kid: String?
        /// The JWK key type (`RSA`, `EC`, `OKP`).
        public let kty: String
        /// The curve for `EC`/`OKP` keys.
        public let curve: String?
        /// The JWK's own `alg`, if present.
        public let alg: String?
        /// Algorithms this key can verify, each with its verifier.
        let verifiers: [String: any JWTAlgorithm]

        /// The JWS algorithms this key may verify.
        public var algorithms: [String] { verifiers.keys.sorted() }
    }

    /// The usable keys, in document order.
    public let keys: [Key]
    /// How many entries of the document were ignored (wrong use, unsupported type, bad key material).
    public let ignoredCount: Int

    /// Default cap on a JWKS document's size (256 KiB).
    public static let defaultMaxBytes = 256 * 1024

    /// Keys with exactly this `kid`.
    func keys(withID kid: String) -> [Key] { keys.filter { $0.kid == kid } }

    /// Parses a JWKS JSON document.
    ///
    /// - Throws: ``TokenError`` with code ``TokenError/Code/keysUnavailable`` when the body is too large, not
    ///   strict JSON, or has no `keys` array.
    public static func parse(_ body: [UInt8], maxBytes: Int = JWKSet.defaultMaxBytes) async throws(TokenError) -> JWKSet
    {
        guard body.count <= maxBytes else {
            throw TokenError(.keysUnavailable, "jwks document larger than \(maxBytes) bytes")
        }
        let doc: [String: ClaimValue]
        do {
            doc = try StrictJSON.parseObject(body, maxDepth: 8)
        } catch {
            throw TokenError(.keysUnavailable, "jwks document is not a strict JSON object")
        }
        guard case .array(let entries)? = doc["keys"] else {
            throw TokenError(.keysUnavailable, "jwks document has no `keys` array")
        }
        var keys: [Key] = []
        var ignored = 0
        for entry in entries {
            if let key = await makeKey(entry) {
                keys.append(key)
            } else {
                ignored += 1
            }
        }
        return JWKSet(keys: keys, ignoredCount: ignored)
    }

    /// Reads and parses a JWKS JSON file (for `scopegate check --token … --jwks FILE`).
    ///
    /// - Throws: ``TokenError`` (``TokenError/Code/keysUnavailable``) when the file cannot be read or parsed.
    public static func load(contentsOfFile path: String, maxBytes: Int = JWKSet.defaultMaxBytes)
        async throws(TokenError) -> JWKSet
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenError(.keysUnavailable, "cannot read jwks file")
        }
        return try await parse(Array(data), maxBytes: maxBytes)
    }

    static let rsaAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]

    /// Builds a key from one JWK, or `nil` when it is not a usable public signature key.
    static func makeKey(_ value: ClaimValue) async -> Key? {
        guard case .object(let jwk) = value, let kty = jwk["kty"]?.stringValue else { return nil }
        if let use = jwk["use"] {
            guard use.stringValue == "sig" else { return nil }
        }
        if let ops = jwk["key_ops"] {
            guard let list = ops.arrayValue, list.contains(.string("verify")) else { return nil }
        }
        let kid: String?
        switch jwk["kid"] {
        case nil: kid = nil
        case .string(let s)?: kid = s
        default: return nil
        }
        let alg = jwk["alg"]?.stringValue
        if jwk["alg"] != nil, alg == nil { return nil }
        let crv = jwk["crv"]?.stringValue
        let collection = JWTKeyCollection()
        let id = JWKIdentifier(string: "k")
        var verifiers: [String: any JWTAlgorithm] = [:]

        func wanted(_ candidate: String) -> Bool { alg == nil || alg == candidate }

        do {
            switch kty {
            case "RSA":
                guard let n = jwk["n"]?.stringValue, let e = jwk["e"]?.stringValue,
                    Base64URL.decode(n) != nil, Base64URL.decode(e) != nil
                else { return nil }
                let key = try Insecure.RSA.PublicKey(modulus: n, exponent: e)
                for name in rsaAlgorithms where wanted(name) {
                    let digest: DigestAlgorithm =
                        name.hasSuffix("256") ? .sha256 : name.hasSuffix("384") ? .sha384 : .sha512
                    if name.hasPrefix("RS") {
                        await collection.add(rsa: key, digestAlgorithm: digest, kid: id)
                    } else {
                        await collection.add(pss: key, digestAlgorithm: digest, kid: id)
                    }
                    verifiers[name] = try await collection.getKey(for: id)
                }
            case "EC":
                guard let x = jwk["x"]?.stringValue, let y = jwk["y"]?.stringValue,
                    Base64URL.decode(x) != nil, Base64URL.decode(y) != nil
                else { return nil }
                switch crv {
                case "P-256" where wanted("ES256"):
                    await collection.add(ecdsa: try ES256PublicKey(parameters: (x, y)), kid: id)
                    verifiers["ES256"] = try await collection.getKey(for: id)
                case "P-384" where wanted("ES384"):
                    await collection.add(ecdsa: try ES384PublicKey(parameters: (x, y)), kid: id)
                    verifiers["ES384"] = try await collection.getKey(for: id)
                case "P-521" where wanted("ES512"):
                    await collection.add(ecdsa: try ES512PublicKey(parameters: (x, y)), kid: id)
                    verifiers["ES512"] = try await collection.getKey(for: id)
                default:
                    break
                }
            case "OKP":
                guard crv == "Ed25519", let x = jwk["x"]?.stringValue, Base64URL.decode(x) != nil else { return nil }
                if wanted("EdDSA") || alg == "Ed25519" {
                    await collection.add(eddsa: try EdDSA.PublicKey(x: x, curve: .ed25519), kid: id)
                    let verifier = try await collection.getKey(for: id)
                    verifiers["EdDSA"] = verifier
                    verifiers["Ed25519"] = verifier  // RFC 9864 fully-specified name
                }
            default:
                return nil
            }
        } catch {
            return nil
        }
        // A key whose own `alg` fits nothing we support is kept (so its `kid` is known) but verifies nothing.
        return Key(kid: kid, kty: kty, curve: crv, alg: alg, verifiers: verifiers)
    }
}
