import Crypto
import Foundation
import ScopeGate
import Testing

@testable import ScopeGateTokens

/// Failure drills for the JWKS side of token verification, with an injected fetcher and clock (nothing sleeps,
/// nothing touches the network). Documented behaviour (JWKSCache): a failed refresh keeps the last good set,
/// retried at most once per `failureRetryInterval`, until `maxStaleness` past its expiry — then fail closed
/// (`token.keys_unavailable`). Every drill also runs the full path token → grant → decision against a policy and
/// checks that no call the policy denies is ever allowed. Results are tabulated in docs/reliability.md.
@Suite struct JWKSFailureDrillTests {
    let clock = TestClock()
    let key = TestKey.p256(P256.Signing.PrivateKey())
    let forged = TestKey.p256(P256.Signing.PrivateKey())
    static let maxAge: TimeInterval = 300
    static let staleness: TimeInterval = 3_600
    static let retry: TimeInterval = 10

    /// `get_forecast` needs `mcp:tools:climate` (which every test token has); `delete_file` needs `admin`.
    static let policy: CompiledPolicy = {
        let source = """
            version: 1
            scopes:
              mcp:tools:climate: {}
              read:files: {}
              admin: { risk: admin }
            tools:
              get_forecast: mcp:tools:climate
              delete_file: admin
            """
        guard let model = PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).model else {
            fatalTest("drill policy does not compile")
        }
        return CompiledPolicy(model: model)
    }()

    var goodBody: [UInt8] { Array(jwksJSON([key.jwk(kid: "a")]).utf8) }

    func good() -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Cache-Control": "max-age=\(Int(Self.maxAge))"], body: goodBody)
    }

    func verifier(_ fetcher: any HTTPFetcher) -> TokenVerifier {
        let config = TokensConfig(issuers: [issuerConfig(algorithms: ["ES256"], jwksURI: testIssuer + "/jwks")])
        let policy = JWKSCache.Policy(
            defaultMaxAge: Self.maxAge, failureRetryInterval: Self.retry, maxStaleness: Self.staleness)
        return TokenVerifier(
            config: config, resource: testResource, options: .init(jwks: policy), fetcher: fetcher, clock: clock)
    }

    /// A token valid at the clock's current time, signed by `key` (or the forger's key under the same kid).
    func token(forgedBy: Bool = false, scope: String = "mcp:tools:climate read:files") -> String {
        sign(
            header: ["alg": "ES256", "kid": "a"], claims: claims(clock, ["scope": scope]), key: forgedBy ? forged : key)
    }

    /// What a server does with a request: verify, then decide. Returns the decision and the token error if any.
    func authorize(_ v: TokenVerifier, _ token: String, tool: String) async -> (allowed: Bool, error: TokenError.Code?)
    {
        do {
            let verified = try await v.verify(token)
            let decision = Self.policy.decide(
                .tool(tool), grant: Self.policy.grant(verified.scopes, stripPrefixes: verified.stripPrefixes))
            return (decision.allowed, nil)
        } catch {
            return (false, error.code)
        }
    }

    /// The invariants that must hold at every step of every drill, whatever the keys' state.
    func expectNeverAllowsWhatPolicyDenies(_ v: TokenVerifier, _ context: String) async {
        #expect(await authorize(v, token(), tool: "delete_file").allowed == false, "\(context): policy deny allowed")
        #expect(
            await authorize(v, token(forgedBy: true, scope: "admin"), tool: "delete_file").allowed == false,
            "\(context): forged token allowed")
        #expect(
            await authorize(v, token(forgedBy: true), tool: "get_forecast").allowed == false,
            "\(context): forged token allowed")
        #expect(await authorize(v, token(), tool: "no_such_tool").allowed == false, "\(context): unknown tool allowed")
    }

    // MARK: endpoint down

    @Test func endpointDownKeepsLastGoodUntilStalenessThenFailsClosed() async {
        let fetcher = FakeFetcher { [self] _ in good() }
        let v = verifier(fetcher)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
        fetcher.set { _ in throw FakeFetcher.Down() }
        // Walk through expiry and the whole staleness window in retry-interval steps: last good keeps serving.
        var t: TimeInterval = 0
        var servedStale = 0
        while t + Self.retry < Self.maxAge + Self.staleness {
            clock.advance(Self.retry)
            t += Self.retry
            let r = await authorize(v, token(), tool: "get_forecast")
            #expect(r == (true, nil), "at +\(t)s (within max-age + staleness) the last good set must serve")
            if t > Self.maxAge { servedStale += 1 }
            if Int(t) % 600 == 0 { await expectNeverAllowsWhatPolicyDenies(v, "down at +\(t)s") }
        }
        #expect(servedStale > 300)
        // Past max-age + staleness: fail closed, with the documented code.
        clock.advance(Self.maxAge + Self.staleness - t + 1)
        #expect(await authorize(v, token(), tool: "get_forecast") == (false, .keysUnavailable))
        await expectNeverAllowsWhatPolicyDenies(v, "down past staleness")
        // Retries stay rate limited while down: at most one attempt per retry interval.
        let before = fetcher.requestCount
        for _ in 0..<20 { _ = await authorize(v, token(), tool: "get_forecast") }
        #expect(fetcher.requestCount == before)
        // Recovery.
        fetcher.set { [self] _ in good() }
        clock.advance(Self.retry + 1)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
    }

    // MARK: slow endpoint

    /// A fetcher that holds every request until the test opens the gate: concurrent requests coalesce into one
    /// fetch, nobody is allowed while keys are unknown, and what the slow answer brings decides all waiters.
    @Test(arguments: [true, false])
    func slowEndpointCoalescesAndDecidesAllWaiters(_ answerSucceeds: Bool) async throws {
        let answer: HTTPResponse? = answerSucceeds ? good() : nil
        let fetcher = SlowFetcher { if let answer { return answer } else { throw FakeFetcher.Down() } }
        let v = verifier(fetcher)
        let tokens = (0..<16).map { i in token(forgedBy: i % 4 == 3) }
        let results = await withTaskGroup(of: (Int, Bool, TokenError.Code?).self) { group in
            for (i, t) in tokens.enumerated() {
                group.addTask { [self] in
                    let r = await authorize(v, t, tool: "get_forecast")
                    return (i, r.allowed, r.error)
                }
            }
            // Open the gate once the first request is in the fetcher (others are waiting on the in-flight fetch).
            while fetcher.requestCount == 0 { await Task.yield() }
            for _ in 0..<100 { await Task.yield() }  // let the others pile up behind the in-flight fetch
            await fetcher.gate.open()
            var out: [(Int, Bool, TokenError.Code?)] = []
            for await r in group { out.append(r) }
            return out
        }
        #expect(results.count == tokens.count)
        #expect(fetcher.requestCount == 1, "slow fetches were not coalesced")
        for (i, allowed, error) in results {
            if answerSucceeds && i % 4 != 3 {
                #expect(allowed && error == nil)
            } else {
                #expect(!allowed)
                #expect(error == (answerSucceeds ? .badSignature : .keysUnavailable))
            }
        }
        await expectNeverAllowsWhatPolicyDenies(v, "after slow answer")
    }

    // MARK: garbage and huge bodies

    static let garbage: [(String, [UInt8])] = [
        ("html error page", Array("<html><body>502 Bad Gateway</body></html>".utf8)),
        ("empty body", []),
        ("truncated json", Array(#"{"keys":[{"kty":"EC","crv":"P-256","x":"#.utf8)),
        ("json array", Array("[]".utf8)),
        ("keys not an array", Array(#"{"keys":{"kty":"EC"}}"#.utf8)),
        ("duplicate keys member", Array(#"{"keys":[],"keys":[]}"#.utf8)),
        ("nul bytes", [0x7B, 0x00, 0x7D]),
        ("deep nesting", Array((String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)),
        ("invalid utf-8", [0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D]),
        (
            "keys all unusable",
            Array(#"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"EC","crv":"P-256","x":"!!","y":"!!"}]}"#.utf8)
        ),
    ]

    @Test(arguments: JWKSFailureDrillTests.garbage.indices)
    func garbageBodyNeverFetchedFailsClosed(_ index: Int) async {
        let body = Self.garbage[index].1
        let fetcher = FakeFetcher { _ in HTTPResponse(status: 200, body: body) }
        let v = verifier(fetcher)
        let r = await authorize(v, token(), tool: "get_forecast")
        #expect(!r.allowed, "\(Self.garbage[index].0): allowed without usable keys")
        // An unusable-but-parseable set yields unknown_kid; anything else keys_unavailable.
        #expect(
            r.error == .keysUnavailable || r.error == .unknownKid,
            "\(Self.garbage[index].0): \(String(describing: r.error))")
        await expectNeverAllowsWhatPolicyDenies(v, Self.garbage[index].0)
    }

    @Test func garbageAfterGoodKeepsLastGood() async {
        let fetcher = FakeFetcher { [self] _ in good() }
        let v = verifier(fetcher)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
        for (i, (name, body)) in Self.garbage.enumerated() where name != "keys all unusable" {
            fetcher.set { _ in HTTPResponse(status: 200, body: body) }
            clock.advance(Self.maxAge + Self.retry)  // expired: each step forces a refresh that gets garbage
            let r = await authorize(v, token(), tool: "get_forecast")
            #expect(r == (true, nil), "\(name) (step \(i)): last good set must keep serving")
            await expectNeverAllowsWhatPolicyDenies(v, "garbage \(name)")
        }
        #expect(fetcher.requestCount >= Self.garbage.count)
    }

    /// A response body of 8 MiB (a misbehaving fetcher that ignores `maxResponseBytes`): refused by size before
    /// parsing, last good kept; the request carried the cap.
    @Test func hugeBodyIsRefusedBySize() async {
        let huge = Array(#"{"keys":["#.utf8) + Array(repeating: UInt8(ascii: " "), count: 8 << 20) + Array("]}".utf8)
        let fetcher = FakeFetcher { _ in HTTPResponse(status: 200, body: huge) }
        let v = verifier(fetcher)
        #expect(await authorize(v, token(), tool: "get_forecast") == (false, .keysUnavailable))
        fetcher.set { [self] _ in good() }
        clock.advance(Self.retry + 1)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
        fetcher.set { _ in HTTPResponse(status: 200, body: huge) }
        clock.advance(Self.maxAge + 1)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil), "last good must survive a huge body")
        #expect(fetcher.requestCount == 3)
        #expect(fetcher.lastRequest?.maxResponseBytes == JWKSet.defaultMaxBytes)
        await expectNeverAllowsWhatPolicyDenies(v, "huge body")
    }

    // MARK: clock jumps

    @Test func clockJumpForwardPastStalenessFailsClosedThenRecovers() async {
        let fetcher = FakeFetcher { [self] _ in good() }
        let v = verifier(fetcher)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
        fetcher.set { _ in throw FakeFetcher.Down() }
        clock.advance(30 * 86_400)  // NTP step of a month, endpoint down
        #expect(await authorize(v, token(), tool: "get_forecast") == (false, .keysUnavailable))
        await expectNeverAllowsWhatPolicyDenies(v, "after forward jump")
        fetcher.set { [self] _ in good() }
        clock.advance(Self.retry + 1)
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
    }

    /// The clock steps back a day with keys cached: the set still serves (it was fetched from the issuer, its
    /// freshness only grows), tokens are judged on the new time, and nothing the policy denies is allowed.
    @Test func clockJumpBackwardWithKeysCached() async {
        let fetcher = FakeFetcher { [self] _ in good() }
        let v = verifier(fetcher)
        let early = token()
        #expect(await authorize(v, early, tool: "get_forecast") == (true, nil))
        clock.advance(-86_400)
        // A token minted "now" (a day earlier) verifies; the one minted before the jump is not yet valid.
        #expect(await authorize(v, token(), tool: "get_forecast") == (true, nil))
        #expect(await authorize(v, early, tool: "get_forecast").allowed == false)
        await expectNeverAllowsWhatPolicyDenies(v, "after backward jump")
        #expect(fetcher.requestCount == 1)
        // The issuer rotates to a new key: an unknown `kid` still triggers a refresh (rate limited per
        // `unknownKidRefreshInterval` on the new timeline, not a day later).
        let rotated = TestKey.p256(P256.Signing.PrivateKey())
        fetcher.set { _ in HTTPResponse(status: 200, body: Array(jwksJSON([rotated.jwk(kid: "b")]).utf8)) }
        clock.advance(61)
        let fresh = sign(header: ["alg": "ES256", "kid": "b"], claims: claims(clock), key: rotated)
        #expect(
            await authorize(v, fresh, tool: "get_forecast") == (true, nil),
            "rotation not picked up after the clock stepped back")
        #expect(fetcher.requestCount == 2)
    }

    /// The clock steps back a day right after a failed fetch. The retry gate is "at most once per
    /// `failureRetryInterval`": after that interval on the new timeline a retry must happen, not a day later.
    @Test func clockJumpBackwardAfterFailureStillRetries() async {
        let fetcher = FakeFetcher { _ in throw FakeFetcher.Down() }
        let v = verifier(fetcher)
        #expect(await authorize(v, token(), tool: "get_forecast") == (false, .keysUnavailable))
        #expect(fetcher.requestCount == 1)
        clock.advance(-86_400)
        fetcher.set { [self] _ in good() }
        clock.advance(Self.retry + 1)
        #expect(
            await authorize(v, token(), tool: "get_forecast") == (true, nil),
            "no retry for a day after the clock stepped back")
        #expect(fetcher.requestCount == 2)
        await expectNeverAllowsWhatPolicyDenies(v, "after backward jump and recovery")
    }
}

/// A fetcher whose every request waits (without blocking a thread) until the test opens the gate.
final class SlowFetcher: HTTPFetcher, @unchecked Sendable {
    actor Gate {
        private var isOpen = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        func wait() async {
            if isOpen { return }
            await withCheckedContinuation { waiters.append($0) }
        }
        func open() {
            isOpen = true
            for w in waiters { w.resume() }
            waiters = []
        }
    }

    let gate = Gate()
    private let lock = NSLock()
    private var count = 0
    private let answer: @Sendable () throws -> HTTPResponse

    init(_ answer: @escaping @Sendable () throws -> HTTPResponse) { self.answer = answer }
    var requestCount: Int { lock.withLock { count } }

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { count += 1 }
        await gate.wait()
        return try answer()
    }
}

extension FakeFetcher {
    var lastRequest: HTTPRequest? { requests.last }
}
