import Crypto
import Foundation
import ScopeGate
import ScopeGateURLSession
import Testing

@testable import ScopeGateTokens

/// Token shapes as each identity provider issues them (header + claims), signed with a test key, read through
/// the claim profile that docs/tokens.md recommends for that provider.
@Suite struct ProviderFixtureTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/providers")

    static var names: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
    }

    @Test func everyDocumentedProviderHasAFixture() {
        #expect(
            Self.names == [
                "auth0.json", "entra-v1.json", "entra-v2.json", "glewlwyd.json", "google.json",
                "keycloak.json", "okta.json",
            ])
    }

    @Test(arguments: names)
    func profileReadsTheRightScopes(name: String) async throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        let fixture = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let config = try #require(fixture["config"] as? [String: Any])
        var header = try #require(fixture["header"] as? [String: Any])
        var claimSet = try #require(fixture["claims"] as? [String: Any])
        let clock = TestClock()
        let now = Int(clock.now().timeIntervalSince1970)
        for claim in fixture["time_claims"] as? [String] ?? [] {
            claimSet[claim] = claim == "exp" ? now + 3600 : now - 5
        }
        let kid = try #require(header["kid"] as? String)
        let key = TestKey.rsa(TestKey.sharedRSA)
        header["alg"] = header["alg"] ?? "RS256"
        let token = sign(header: header, claims: claimSet, key: key)

        var roles: TokensConfig.RoleMapping?
        if let r = config["roles"] as? [String: Any], let claim = r["claim"] as? String,
            let map = r["map"] as? [String: [String]]
        {
            roles = TokensConfig.RoleMapping(claim: claim, map: map)
        }
        let issuer = try #require(config["issuer"] as? String)
        let issuerConfig = TokensConfig.Issuer(
            issuer: issuer, jwksURI: nil, algorithms: try #require(config["algorithms"] as? [String]),
            audiences: config["audiences"] as? [String] ?? [], scopeClaims: config["scope_claims"] as? [String],
            roles: roles, stripPrefixes: config["strip_prefixes"] as? [String] ?? [], location: here)
        let set = try await keySet([key.jwk(kid: kid, alg: "RS256")])
        let verifier = TokenVerifier(
            config: TokensConfig(issuers: [issuerConfig]), resource: testResource,
            staticKeys: [issuer: set], clock: clock)
        let verified = try await verifier.verify(token)
        #expect(verified.scopes == fixture["expected_scopes"] as? [String], "\(name)")
        #expect(verified.clientID == fixture["expected_client_id"] as? String, "\(name)")
        #expect(verified.issuer == issuer)
        #expect(verified.stripPrefixes == config["strip_prefixes"] as? [String] ?? [])

        // The same token under the section-level default profile ([scope, scp], no roles) reads less or other scopes
        // wherever the provider needs its own profile: proves the per-issuer profile is what made the difference.
        let defaultIssuer = TokensConfig.Issuer(
            issuer: issuer, algorithms: issuerConfig.algorithms, audiences: issuerConfig.audiences, location: here)
        let plain = try await TokenVerifier(
            config: TokensConfig(issuers: [defaultIssuer]), resource: testResource,
            staticKeys: [issuer: set], clock: clock
        ).verify(token)
        if config["roles"] != nil
            || (config["scope_claims"] as? [String]).map({
                Set($0) != ["scope", "scp"] && $0 != ["scope"] && $0 != ["scp"]
            }) == true
        {
            #expect(plain.scopes != verified.scopes, "\(name): the provider profile should matter")
        }
    }
}
