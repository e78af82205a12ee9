import Crypto
import CryptoExtras
import Foundation
import ScopeGate
import ScopeGateURLSession
import Testing

@testable import ScopeGateTokens

/// One issuer with an RSA, a P-256, a P-384 and an Ed25519 key, each with its own `kid`.
struct Bench {
    let clock = TestClock()
    let rsa = TestKey.rsa(TestKey.sharedRSA)
    let p256 = TestKey.p256(P256.Signing.PrivateKey())
    let p384 = TestKey.p384(P384.Signing.PrivateKey())
    let ed = TestKey.ed25519(Curve25519.Signing.PrivateKey())

    var jwks: [[String: Any]] {
        [
            rsa.jwk(kid: "rsa-1", alg: "RS256"), p256.jwk(kid: "ec-1", alg: "ES256"),
            p384.jwk(kid: "ec-384"), ed.jwk(kid: "ed-1", alg: "EdDSA"),
        ]
    }

    func verifier(
        algorithms: [String] = ["RS256", "PS256", "ES256", "ES384", "EdDSA"], keys: [[String: Any]]? = nil,
        requireTyp: String? = nil, options: TokenVerifier.Options = .init()
    ) async throws -> TokenVerifier {
        let set = try await keySet(keys ?? jwks)
        let config = TokensConfig(issuers: [issuerConfig(algorithms: algorithms)], requireTyp: requireTyp)
        return TokenVerifier(
            config: config, resource: testResource, options: options, staticKeys: [testIssuer: set], clock: clock)
    }

    func token(
        kid: String? = "rsa-1", alg: String = "RS256", key: TestKey? = nil, header: [String: Any] = [:],
        extra: [String: Any] = [:], removing: [String] = []
    ) -> String {
        var h: [String: Any] = ["alg": alg, "typ": "at+jwt"]
        if let kid { h["kid"] = kid }
        for (k, v) in header { h[k] = v }
        return sign(header: h, claims: claims(clock, extra, removing: removing), key: key ?? rsa)
    }
}

@Suite struct VerifierPositiveTests {
    @Test(arguments: [("rsa-1", "RS256"), ("ec-1", "ES256"), ("ec-384", "ES384"), ("ed-1", "EdDSA")])
    func eachKeyTypeVerifies(kid: String, alg: String) async throws {
        let bench = Bench()
        let key: TestKey =
            switch kid {
            case "ec-1": bench.p256
            case "ec-384": bench.p384
            case "ed-1": bench.ed
            default: bench.rsa
            }
        let verified = try await bench.verifier().verify(bench.token(kid: kid, alg: alg, key: key))
        #expect(verified.issuer == testIssuer)
        #expect(verified.subject == "user-1")
        #expect(verified.clientID == "client-1")
        #expect(verified.jwtID == "jti-1")
        #expect(verified.scopes == ["mcp:tools:climate", "read:files"])
        #expect(verified.audiences == [testResource])
        #expect(verified.expiresAt == bench.clock.now().addingTimeInterval(300))
        #expect(verified.claims["sub"] == .string("user-1"))
    }

    @Test func singleKeyWithoutKidNeedsNoKid() async throws {
        let bench = Bench()
        let verifier = try await bench.verifier(keys: [bench.rsa.jwk(kid: nil, alg: "RS256")])
        let verified = try await verifier.verify(bench.token(kid: nil))
        #expect(verified.subject == "user-1")
    }

    @Test func audienceArrayContainingOursAndLeewayAccepted() async throws {
        let bench = Bench()
        let now = Int(bench.clock.now().timeIntervalSince1970)
        // expired 30 s ago, nbf 30 s ahead, iat 30 s ahead: all inside the default 60 s leeway
        let token = bench.token(extra: [
            "aud": ["https://other", testResource], "exp": now - 30, "nbf": now + 30, "iat": now + 30,
        ])
        let verified = try await bench.verifier().verify(token)
        #expect(verified.audiences == ["https://other", testResource])
    }

    @Test func requireTypAcceptsApplicationPrefix() async throws {
        let bench = Bench()
        let verifier = try await bench.verifier(requireTyp: "at+jwt")
        _ = try await verifier.verify(bench.token(header: ["typ": "application/at+jwt"]))
        let code = await expectCode(.typMismatch) { try await verifier.verify(bench.token(header: ["typ": "JWT"])) }
        #expect(code == .typMismatch)
    }
}

@Suite struct AdversarialCorpusTests {
    /// Runs one case and returns the rejection code (nil if accepted).
    func reject(_ bench: Bench, _ token: String, verifier: TokenVerifier? = nil) async throws -> TokenError.Code? {
        let v: TokenVerifier
        if let verifier { v = verifier } else { v = try await bench.verifier() }
        do {
            _ = try await v.verify(token)
            return nil
        } catch {
            #expect(error.oauthError == "invalid_token")
            #expect(error.message.count < 200)
            return error.code
        }
    }

    @Test func sanity_validTokenIsAccepted() async throws {
        let bench = Bench()
        #expect(try await reject(bench, bench.token()) == nil)
    }

    @Test func algNone() async throws {
        let bench = Bench()
        let unsigned = b64url(json(["alg": "none", "kid": "rsa-1"])) + "." + b64url(json(claims(bench.clock))) + "."
        #expect(try await reject(bench, unsigned) == .algNone)
        let upper = b64url(json(["alg": "NONE"])) + "." + b64url(json(claims(bench.clock))) + "."
        #expect(try await reject(bench, upper) == .algNone)
    }

    @Test func hs256SignedWithTheRSAPublicKey() async throws {
        let bench = Bench()
        // The classic confusion: use the RSA public key (as published) as an HMAC secret.
        let publicPEM = Array(
            (try _RSA.Signing.PublicKey(pemRepresentation: TestKey.sharedRSA.publicKey.pemRepresentation))
                .pemRepresentation.utf8)
        let header = json(["alg": "HS256", "kid": "rsa-1"])
        let input = b64url(header) + "." + b64url(json(claims(bench.clock)))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: publicPEM))
        let forged = input + "." + b64url(Array(mac))
        #expect(try await reject(bench, forged) == .algNotAllowed)
        // Even when a careless policy allows HS256, the RSA key never verifies an HMAC.
        let careless = try await bench.verifier(algorithms: ["RS256", "HS256"])
        #expect(try await reject(bench, forged, verifier: careless) == .algKeyMismatch)
    }

    @Test func unknownKidNeverFallsBack() async throws {
        let bench = Bench()
        // jwt-kit trap: JWTKeyCollection falls back to its default key for an unknown kid.
        #expect(try await reject(bench, bench.token(kid: "nope")) == .unknownKid)
        // Same with a single-key set: the kid must still match.
        let single = try await bench.verifier(keys: [bench.rsa.jwk(kid: "rsa-1")])
        #expect(try await reject(bench, bench.token(kid: "other"), verifier: single) == .unknownKid)
    }

    @Test func kidOfAKeyWithAnotherAlg() async throws {
        let bench = Bench()
        // jwt-kit trap: header alg is never compared with the key's. Sign ES256 but name the RSA key.
        #expect(try await reject(bench, bench.token(kid: "rsa-1", alg: "ES256", key: bench.p256)) == .algKeyMismatch)
        // RSA key pinned to RS256 in its JWK; a PS256 token under its kid is refused even though PS256 is allowed.
        #expect(try await reject(bench, bench.token(kid: "rsa-1", alg: "PS256")) == .algKeyMismatch)
        // EC P-256 key named with ES384.
        #expect(try await reject(bench, bench.token(kid: "ec-1", alg: "ES384", key: bench.p384)) == .algKeyMismatch)
    }

    @Test func jwkWithoutAlgIsNotLockedToTheFirstTokensAlg() async throws {
        let bench = Bench()
        // jwt-kit trap: a JWK without alg gets a signer for the first token's alg and keeps it.
        let verifier = try await bench.verifier(keys: [bench.rsa.jwk(kid: "rsa-x")])
        _ = try await verifier.verify(bench.token(kid: "rsa-x", alg: "PS256"))
        _ = try await verifier.verify(bench.token(kid: "rsa-x", alg: "RS256"))
        _ = try await verifier.verify(bench.token(kid: "rsa-x", alg: "PS256"))
        // …and its kty still bounds it: an ES256 token under the RSA kid is refused.
        #expect(
            try await reject(bench, bench.token(kid: "rsa-x", alg: "ES256", key: bench.p256), verifier: verifier)
                == .algKeyMismatch)
    }

    @Test func algNotInAllowList() async throws {
        let bench = Bench()
        let verifier = try await bench.verifier(algorithms: ["ES256"])
        #expect(try await reject(bench, bench.token(), verifier: verifier) == .algNotAllowed)
    }

    @Test func expiredNotYetValidIssuedInFuture() async throws {
        // jwt-kit trap: it checks no exp/nbf/iss/aud unless the payload's verify does; we always do.
        let bench = Bench()
        let now = Int(bench.clock.now().timeIntervalSince1970)
        #expect(try await reject(bench, bench.token(extra: ["exp": now - 61])) == .expired)
        #expect(try await reject(bench, bench.token(extra: ["nbf": now + 120])) == .notYetValid)
        #expect(try await reject(bench, bench.token(extra: ["iat": now + 86_400 * 365])) == .issuedInFuture)
        #expect(try await reject(bench, bench.token(removing: ["exp"])) == .claimMissing)
        #expect(try await reject(bench, bench.token(extra: ["exp": "\(now + 100)"])) == .claimInvalid)
    }

    @Test func issuer() async throws {
        let bench = Bench()
        #expect(try await reject(bench, bench.token(extra: ["iss": "https://evil.example.com"])) == .issuerUntrusted)
        #expect(try await reject(bench, bench.token(extra: ["iss": testIssuer + "/"])) == .issuerUntrusted)
        #expect(try await reject(bench, bench.token(extra: ["iss": "HTTPS://AUTH.EXAMPLE.COM"])) == .issuerUntrusted)
        #expect(try await reject(bench, bench.token(removing: ["iss"])) == .issuerUntrusted)
    }

    @Test func audience() async throws {
        let bench = Bench()
        #expect(try await reject(bench, bench.token(removing: ["aud"])) == .audienceMissing)
        #expect(
            try await reject(bench, bench.token(extra: ["aud": "https://other.example.com/mcp"])) == .audienceMismatch)
        #expect(try await reject(bench, bench.token(extra: ["aud": ["https://a", "https://b"]])) == .audienceMismatch)
        #expect(try await reject(bench, bench.token(extra: ["aud": testResource + "/"])) == .audienceMismatch)
        #expect(try await reject(bench, bench.token(extra: ["aud": 42])) == .claimInvalid)
    }

    @Test func sizeLimitBeforeParsing() async throws {
        let bench = Bench()
        let big = bench.token(extra: ["pad": String(repeating: "x", count: 17_000)])
        #expect(try await reject(bench, big) == .tooLarge)
        // Not even parsed: garbage of the same size gets the same code.
        #expect(try await reject(bench, String(repeating: "!", count: 16 * 1024 + 1)) == .tooLarge)
    }

    @Test func badBase64URL() async throws {
        let bench = Bench()
        let parts = bench.token().split(separator: ".").map(String.init)
        #expect(try await reject(bench, parts[0] + "=." + parts[1] + "." + parts[2]) == .malformed)  // padding
        #expect(
            try await reject(
                bench, parts[0] + "." + parts[1].replacingOccurrences(of: "-", with: "+") + "+." + parts[2])
                == .malformed)
        #expect(try await reject(bench, parts[0] + ".\(parts[1]) ." + parts[2]) == .malformed)  // whitespace
        #expect(try await reject(bench, "a.b.c.d.e") == .malformed)  // JWE shape
        #expect(try await reject(bench, "..") == .malformed)
    }

    @Test func nonCanonicalBase64SignatureRefused() async throws {
        let bench = Bench()
        // Ed25519 signature = 64 bytes → 86 chars with 4 spare bits; flipping a spare bit keeps the bytes.
        let token = bench.token(kid: "ed-1", alg: "EdDSA", key: bench.ed)
        var chars = Array(token)
        let last = chars[chars.count - 1]
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        if let i = alphabet.firstIndex(of: last) { chars[chars.count - 1] = alphabet[i ^ 1] }
        #expect(try await reject(bench, String(chars)) == .malformed)
    }

    @Test func nonJSONHeader() async throws {
        let bench = Bench()
        let token = signRaw(header: "not json", payload: json(claims(bench.clock)), key: bench.rsa, alg: "RS256")
        #expect(try await reject(bench, token) == .malformed)
        let array = signRaw(header: "[\"RS256\"]", payload: json(claims(bench.clock)), key: bench.rsa, alg: "RS256")
        #expect(try await reject(bench, array) == .malformed)
        let trailing = signRaw(
            header: json(["alg": "RS256", "kid": "rsa-1"]) + " x", payload: json(claims(bench.clock)), key: bench.rsa,
            alg: "RS256")
        #expect(try await reject(bench, trailing) == .malformed)
    }

    @Test func deeplyNestedClaims() async throws {
        let bench = Bench()
        var nested: Any = "x"
        for _ in 0..<40 { nested = ["a": nested] }
        #expect(try await reject(bench, bench.token(extra: ["deep": nested])) == .tooDeep)
        var arrays = "1"
        for _ in 0..<40 { arrays = "[" + arrays + "]" }
        let payload = String(json(claims(bench.clock)).dropLast()) + ",\"deep\":" + arrays + "}"
        let token = signRaw(
            header: json(["alg": "RS256", "kid": "rsa-1"]), payload: payload, key: bench.rsa, alg: "RS256")
        #expect(try await reject(bench, token) == .tooDeep)
    }

    @Test func duplicateJSONKeys() async throws {
        let bench = Bench()
        let payload = String(json(claims(bench.clock)).dropLast()) + ",\"aud\":\"https://evil\"}"
        let token = signRaw(
            header: json(["alg": "RS256", "kid": "rsa-1"]), payload: payload, key: bench.rsa, alg: "RS256")
        #expect(try await reject(bench, token) == .duplicateKey)
        // Escaped spelling of the same key is still a duplicate.
        let header = #"{"alg":"RS256","kid":"rsa-1","\u0061lg":"none"}"#
        let token2 = signRaw(header: header, payload: json(claims(bench.clock)), key: bench.rsa, alg: "RS256")
        #expect(try await reject(bench, token2) == .duplicateKey)
    }

    @Test func critHeader() async throws {
        let bench = Bench()
        #expect(try await reject(bench, bench.token(header: ["crit": ["exp"], "exp": 1])) == .critUnsupported)
        #expect(try await reject(bench, bench.token(header: ["crit": ["b64"], "b64": false])) == .critUnsupported)
    }

    @Test(arguments: ["jwk", "jku", "x5u", "x5c"])
    func headerSuppliedKeys(name: String) async throws {
        let bench = Bench()
        let value: Any =
            switch name {
            case "jwk": bench.rsa.jwk(kid: "rsa-1")
            case "x5c": ["MIIB"]
            default: "https://evil.example.com/keys"
            }
        let fetcher = FakeFetcher { _ in HTTPResponse(status: 200, body: []) }
        let set = try await keySet(bench.jwks)
        let verifier = TokenVerifier(
            config: TokensConfig(issuers: [issuerConfig()]), resource: testResource,
            staticKeys: [testIssuer: set], fetcher: fetcher, clock: bench.clock)
        #expect(try await reject(bench, bench.token(header: [name: value]), verifier: verifier) == .headerKeyRefused)
        #expect(fetcher.requestCount == 0)  // never fetched
    }

    @Test func signatureStripped() async throws {
        let bench = Bench()
        let parts = bench.token().split(separator: ".", omittingEmptySubsequences: false)
        #expect(try await reject(bench, parts[0] + "." + parts[1] + ".") == .badSignature)
        #expect(try await reject(bench, parts[0] + "." + parts[1]) == .malformed)
    }

    @Test func payloadSwappedBetweenTwoValidTokens() async throws {
        let bench = Bench()
        let a = bench.token(extra: ["scope": "read:files"]).split(separator: ".")
        let b = bench.token(extra: ["scope": "admin:system"]).split(separator: ".")
        #expect(try await reject(bench, a[0] + "." + b[1] + "." + a[2]) == .badSignature)
        // Signature from another key with the same kid shape.
        let other = TestKey.rsa(TestKey.otherRSA)
        #expect(try await reject(bench, bench.token(key: other)) == .badSignature)
    }

    @Test func kidRequiredWithSeveralKeys() async throws {
        let bench = Bench()
        #expect(try await reject(bench, bench.token(kid: nil)) == .kidRequired)
    }

    @Test func dpopBoundTokenRefused() async throws {
        let bench = Bench()
        #expect(
            try await reject(bench, bench.token(extra: ["cnf": ["jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"]]))
                == .dpopUnsupported)
    }

    @Test func opaqueTokenWithoutIntrospection() async throws {
        let bench = Bench()
        #expect(try await reject(bench, "opaque-token-value") == .opaqueUnsupported)
        #expect(try await reject(bench, "") == .malformed)
    }

    @Test func messagesNeverEchoUnboundedInput() async throws {
        let bench = Bench()
        let longIss = "https://" + String(repeating: "e", count: 5_000) + "\n\"evil"
        let verifier = try await bench.verifier()
        do {
            _ = try await verifier.verify(bench.token(extra: ["iss": longIss]))
            Issue.record("accepted")
        } catch {
            #expect(error.code == .issuerUntrusted)
            #expect(error.message.count < 120)
            #expect(!error.message.contains("\n"))
            #expect(!error.message.contains("\""))
        }
    }
}
