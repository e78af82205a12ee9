import Crypto
import Foundation
import ScopeGateURLSession
import Testing

@testable import ScopeGateTokens

@Suite struct TokenInspectorTests {
    let clock = TestClock()
    var now: Date { clock.now() }

    func token(
        _ extra: [String: Any] = [:], removing: [String] = [], header: [String: Any] = ["alg": "ES256", "kid": "k"]
    ) -> String {
        sign(
            header: header,
            claims: claims(
                clock,
                extra.merging([
                    "roles": ["a", "b"], "https://x.example/roles": ["r1"],
                    "realm_access": ["roles": ["admin", "user"]],
                ]) { a, _ in a },
                removing: removing),
            key: .p256(P256.Signing.PrivateKey()))
    }

    @Test func decodesWithoutVerifyingAndShowsTimes() throws {
        let inspected = try TokenInspector.decode("Bearer " + token() + "\n", now: now)
        #expect(inspected.header["alg"] == .string("ES256"))
        #expect(inspected.claims["sub"] == .string("user-1"))
        #expect(inspected.signatureBytes == 64)
        #expect(inspected.warnings.isEmpty)
        let human = TokenInspector.renderHuman(inspected, now: now)
        #expect(human.hasPrefix("UNVERIFIED"))
        #expect(human.contains("expires in 5 min"))
        #expect(human.contains("(10 s ago)"))
        let json = TokenInspector.renderJSON(inspected, now: now)
        #expect(json.contains(#""unverified":true"#))
        #expect(json.contains(#""relative":"expires in 5 min""#))
    }

    @Test func warnings() throws {
        let nowSec = Int(now.timeIntervalSince1970)
        let expired = try TokenInspector.decode(token(["exp": nowSec - 240], removing: ["aud"]), now: now)
        #expect(expired.warnings.contains("expired 4 min ago"))
        #expect(expired.warnings.contains { $0.hasPrefix("no `aud`") })
        let unsigned = b64url(json(["alg": "none"])) + "." + b64url(json(claims(clock))) + "."
        #expect(try TokenInspector.decode(unsigned, now: now).warnings.contains { $0.contains("alg: none") })
        let huge = try TokenInspector.decode(token(["pad": String(repeating: "x", count: 20_000)]), now: now)
        #expect(huge.warnings.contains { $0.contains("over the verifier's default limit") })
        let jku = try TokenInspector.decode(token(header: ["alg": "RS256", "jku": "https://evil"]), now: now)
        #expect(jku.warnings.contains { $0.contains("`jku`") })
    }

    @Test func undecodableInput() {
        for bad in ["", "opaque", "a.b", "a.b.c", "e30.e30", "!!.e30.", b64url("{\"a\":1,\"a\":2}") + ".e30."] {
            #expect(throws: TokenError.self, "\(bad)") { try TokenInspector.decode(bad, now: now) }
        }
        #expect(throws: TokenError.self) { try TokenInspector.decode(String(repeating: "a", count: (1 << 20) + 1)) }
    }

    @Test func queries() throws {
        let claimsValue = try TokenInspector.decode(token(), now: now).claims
        func q(_ path: String) throws -> [ClaimValue] { try TokenInspector.query(path, in: claimsValue) }
        #expect(try q(".scope") == [.string("mcp:tools:climate read:files")])
        #expect(try q(".roles[]") == [.string("a"), .string("b")])
        #expect(try q(".roles[1]") == [.string("b")])
        #expect(try q(".roles[-1]") == [.string("b")])
        #expect(try q(".roles[5]") == [.null])
        #expect(try q(".realm_access.roles[0]") == [.string("admin")])
        #expect(try q(".[\"https://x.example/roles\"][]") == [.string("r1")])
        #expect(try q(".\"https://x.example/roles\"[0]") == [.string("r1")])
        #expect(try q(".missing.deeper") == [.null])
        #expect(try q(".").count == 1)
        #expect(throws: TokenInspector.QueryError.self) { try q("scope") }
        #expect(throws: TokenInspector.QueryError.self) { try q(".scope[]") }
        #expect(throws: TokenInspector.QueryError.self) { try q(".roles[x]") }
        #expect(throws: TokenInspector.QueryError.self) { try q(".scope.x") }
    }

    @Test func spans() {
        #expect(TokenInspector.span(42) == "42 s")
        #expect(TokenInspector.span(-250) == "4 min")
        #expect(TokenInspector.span(7200) == "2 h")
        #expect(TokenInspector.span(200_000) == "2 d")
        #expect(TokenInspector.relative("exp", now.addingTimeInterval(-90), now: now) == "expired 1 min ago")
    }
}

@Suite struct StaticKeySetFileTests {
    @Test func loadsJWKSFileForCheckJwks() async throws {
        let key = TestKey.p256(P256.Signing.PrivateKey())
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        try Data(jwksJSON([key.jwk(kid: "k1", alg: "ES256")]).utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let set = try await JWKSet.load(contentsOfFile: path)
        #expect(set.keys.map(\.kid) == ["k1"])
        let clock = TestClock()
        let verifier = TokenVerifier(
            config: .init(issuers: [issuerConfig(algorithms: ["ES256"])]), resource: testResource,
            staticKeys: [testIssuer: set], clock: clock)
        let verified = try await verifier.verify(
            sign(header: ["alg": "ES256", "kid": "k1"], claims: claims(clock), key: key))
        #expect(verified.subject == "user-1")
        await #expect(throws: TokenError.self) { try await JWKSet.load(contentsOfFile: "/nonexistent/jwks.json") }
    }
}
