import Foundation
import Testing

@testable import ScopeGateTokens

@Suite struct VerifiedTokenCacheTests {
    let clock = TestClock()

    func verified(_ sub: String, ttl: TimeInterval = 300) -> VerifiedToken {
        VerifiedToken(
            issuer: testIssuer, subject: sub, clientID: nil, audiences: [testResource], scopes: ["s"],
            stripPrefixes: [], jwtID: nil, expiresAt: clock.now().addingTimeInterval(ttl), claims: .object([:]))
    }

    @Test func hitMissAndAttachedValue() {
        let cache = VerifiedTokenCache<[Int]>(capacity: 4, clock: clock)
        cache.insert("tok-a", verified: verified("a"), extra: [1, 2])
        #expect(cache.value(for: "tok-a")?.token.subject == "a")
        #expect(cache.value(for: "tok-a")?.extra == [1, 2])
        #expect(cache.value(for: "tok-b") == nil)
        #expect(cache.value(for: "tok-a ") == nil)
    }

    @Test func entriesExpireWithTheToken() {
        let cache = VerifiedTokenCache<Int>(capacity: 4, clock: clock)
        cache.insert("t", verified: verified("a", ttl: 10), extra: 0)
        clock.advance(9.9)
        #expect(cache.value(for: "t") != nil)
        clock.advance(0.1)
        #expect(cache.value(for: "t") == nil)
        #expect(cache.count == 0)
        cache.insert("dead", verified: verified("x", ttl: -1), extra: 0)
        #expect(cache.count == 0)
    }

    @Test func leastRecentlyUsedIsEvicted() {
        let cache = VerifiedTokenCache<Int>(capacity: 3, clock: clock)
        for (i, t) in ["a", "b", "c"].enumerated() { cache.insert(t, verified: verified(t), extra: i) }
        _ = cache.value(for: "a")  // a is now most recent; b is the LRU
        cache.insert("d", verified: verified("d"), extra: 3)
        #expect(cache.count == 3)
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") != nil)
        #expect(cache.value(for: "c") != nil)
        #expect(cache.value(for: "d") != nil)
        // Churn through many more tokens: bound holds and slots are reused.
        for i in 0..<1000 { cache.insert("x\(i)", verified: verified("x"), extra: i) }
        #expect(cache.count == 3)
        #expect(cache.value(for: "x999")?.extra == 999)
        #expect(cache.value(for: "x996") == nil)
    }

    @Test func keyIsBytesNotUnicodeEquivalence() {
        let cache = VerifiedTokenCache<Int>(capacity: 4, clock: clock)
        cache.insert("caf\u{E9}", verified: verified("composed"), extra: 1)
        #expect("caf\u{E9}" == "cafe\u{301}")  // Swift String equality says equal…
        #expect(cache.value(for: "cafe\u{301}") == nil)  // …the cache does not.
    }

    @Test func extraAndContainsFollowTheSameExpiry() {
        let cache = VerifiedTokenCache<Int>(capacity: 4, clock: clock)
        cache.insert("t", verified: verified("a", ttl: 10), extra: 7)
        #expect(cache.extra(for: "t") == 7)
        #expect(cache.contains("t"))
        #expect(cache.extra(for: "u") == nil)
        #expect(!cache.contains("u"))
        clock.advance(10)
        #expect(!cache.contains("t"))
        #expect(cache.extra(for: "t") == nil)
        #expect(cache.count == 0)
    }

    @Test func tokensSharingLengthAndTailAreStillDistinct() {
        // The hash reads only the length and the last 32 bytes; equality must still compare every byte.
        let tail = String(repeating: "s", count: 40)
        let a = "header.AAAA." + tail
        let b = "header.AAAB." + tail
        let c = "hEader.AAAA." + tail
        let cache = VerifiedTokenCache<Int>(capacity: 8, clock: clock)
        cache.insert(a, verified: verified("a"), extra: 1)
        cache.insert(b, verified: verified("b"), extra: 2)
        #expect(cache.value(for: a)?.extra == 1)
        #expect(cache.value(for: b)?.extra == 2)
        #expect(cache.value(for: c) == nil)
        #expect(cache.value(for: String(a.dropLast())) == nil)
        // A bridged/non-contiguous string with the same bytes still hits.
        let sub = ("x" + a).dropFirst()
        #expect(cache.value(for: String(sub))?.extra == 1)
        #expect(cache.count == 2)
    }

    @Test func concurrentUseIsSafe() async {
        let cache = VerifiedTokenCache<Int>(capacity: 64, clock: clock)
        let v = verified("c")
        await withTaskGroup(of: Void.self) { group in
            for w in 0..<8 {
                group.addTask {
                    for i in 0..<2000 {
                        let t = "t\((i * 7 + w) % 100)"
                        if cache.value(for: t) == nil { cache.insert(t, verified: v, extra: i) }
                    }
                }
            }
        }
        #expect(cache.count <= 64)
    }

    @Test func aPrincipalIsTheIssuerAndTheSubjectOrClient() {
        #expect(VerifiedToken.principal(issuer: "https://i", subject: "s", clientID: "c") == "https://i\u{0}sub:s")
        #expect(VerifiedToken.principal(issuer: "https://i", subject: nil, clientID: "c") == "https://i\u{0}client:c")
        #expect(VerifiedToken.principal(issuer: "https://i", subject: nil, clientID: nil) == "https://i\u{0}client:")
        let token = VerifiedToken(
            issuer: "https://i", subject: nil, clientID: "c", audiences: [], scopes: [], stripPrefixes: [],
            jwtID: nil, expiresAt: Date(), claims: .object([:]))
        #expect(token.principal == "https://i\u{0}client:c")
    }
}
