import Testing

@testable import ScopeGateTokens

@Suite struct ScopeProfileTests {
    func split(_ s: String) -> [String] {
        var out: [String] = []
        ScopeProfile.splitOnSpaces(s) { out.append(String($0)) }
        return out
    }

    @Test func splitsOnRunsOfSpacesOnly() {
        #expect(split("read:files  write:files mcp:x ") == ["read:files", "write:files", "mcp:x"])
        #expect(split(" a") == ["a"])
        #expect(split("") == [])
        #expect(split("   ") == [])
        #expect(split("é\u{301} ü") == ["é\u{301}", "ü"])
        #expect(split("a\tb") == ["a\tb"])  // only spaces separate (RFC 6749 §3.3)
    }

    @Test func readsEveryConfiguredClaimOnce() {
        let profile = ScopeProfile(claims: ["scope", "scp", "realm_access.roles"], roles: nil)
        let claims: [String: ClaimValue] = [
            "scope": .string("a b a"), "scp": .array([.string("b"), .string("c"), .number(1)]),
            "realm_access": .object(["roles": .array([.string("d")])]),
        ]
        #expect(profile.scopes(from: claims) == ["a", "b", "c", "d"])
    }

    @Test func deduplicatesPastTheLinearScanToo() {
        // 100 distinct scopes, each repeated: the first 32 are deduplicated by scanning, the rest by a set.
        let names = (0..<100).map { "scope:\($0)" }
        let claims: [String: ClaimValue] = ["scope": .string((names + names.reversed() + names).joined(separator: " "))]
        #expect(ScopeProfile(claims: ["scope"], roles: nil).scopes(from: claims) == names)
    }
}
