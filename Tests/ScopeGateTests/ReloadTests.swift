import Foundation
import Testing

@testable import ScopeGate

@Suite struct ReloadTests {
    /// Version `k`: tool `t` needs `s<k mod 2>`; only tool `v<k>` exists among the version tools.
    static func source(version k: Int) -> String {
        """
        version: 1
        scopes:
          s0: {}
          s1: {}
        tools:
          t: s\(k % 2)
          v\(k): { public: true }
        """
    }

    static let broken = [
        "version: 1\nscopes:\n  s0: {}\ntools:\n  t: s9\n",  // undefined scope
        "version: 1\nscopes:\n  s0: {implies: [s1]}\n  s1: {implies: [s0]}\ntools:\n  t: s0\n",  // cycle
        "version: 1\nscopes: [unclosed\n",  // YAML syntax
        "version: 1\nscopes:\n  s0: {}\ntools:\n  t: { requries: s0 }\n",  // typo'd key
    ]

    /// The load counter of a snapshot version (`<hash>-<counter>`).
    static func counter(_ snapshot: PolicySnapshot) -> Int? {
        snapshot.version.split(separator: "-").last.flatMap { Int($0) }
    }

    /// Checks that a snapshot's decisions are exactly those of the version its load counter names.
    /// Version `k` is loaded with counter `k + 1` (the initial policy is version 0, counter 1).
    static func check(_ snapshot: PolicySnapshot, s0: Grant? = nil) -> (version: Int, ok: Bool) {
        guard let counter = counter(snapshot) else { return (-1, false) }
        let k = counter - 1
        let policy = snapshot.policy
        let g0 = s0 ?? policy.grant(["s0"])
        let g1 = policy.grant(["s1"])
        let even = policy.decide(.tool("t"), grant: g0)
        let odd = policy.decide(.tool("t"), grant: g1)
        let mine = policy.decide(.tool("v\(k)"), grant: g0)
        let next = policy.decide(.tool("v\(k + 1)"), grant: g0)
        let ok =
            even.allowed == (k % 2 == 0) && odd.allowed == (k % 2 == 1)
            && (even.allowed || policy.names(even.missing) == ["s1"])
            && mine.allowed && next.reason == .unknownTool
            && policy.model.tools.contains { $0.pattern == "v\(k)" }
        return (k, ok)
    }

    @Test func concurrentDecisionsSeeExactlyOneVersion() async throws {
        let initial = try PolicyCompiler().compile(source: Self.source(version: 0), name: "v.yaml").compiled()
        let store = PolicyStore(initial: initial)
        let reloads = 2_000
        let readers = 4
        let done = LockedValue(false)
        let started = LockedValue(0)

        let results = await withTaskGroup(of: (counts: [Int: Int], mismatches: Int, rejectedOK: Int).self) { group in
            group.addTask {
                var rejectedOK = 0
                // Start swapping only once every reader is deciding (the pool may be busy with other suites).
                while started.withLock({ $0 }) < readers { await Task.yield() }
                for k in 1...reloads {
                    await Task.yield()
                    if k % 50 == 0 {
                        let before = store.current.version
                        let outcome = store.reload(source: Self.broken[k / 50 % Self.broken.count], name: "bad.yaml")
                        if case .rejected = outcome, store.current.version == before { rejectedOK += 1 }
                    }
                    if case .swapped(let snapshot, _) = store.reload(source: Self.source(version: k), name: "v.yaml"),
                        Self.counter(snapshot) == k + 1
                    {
                        continue
                    }
                    return ([:], 1, rejectedOK)
                }
                done.withLock { $0 = true }
                return ([:], 0, rejectedOK)
            }
            for _ in 0..<readers {
                group.addTask {
                    var counts: [Int: Int] = [:]
                    var mismatches = 0
                    var stale: (PolicySnapshot, Grant)?
                    var iteration = 0
                    started.withLock { $0 += 1 }
                    while true {
                        iteration += 1
                        let finished = done.withLock { $0 }
                        let snapshot = store.current
                        // Half the time, reuse a grant resolved against an older version: it must be re-resolved.
                        let (k, ok) = Self.check(snapshot, s0: stale?.1)
                        counts[k, default: 0] += 1
                        if !ok { mismatches += 1 }
                        stale = iteration % 2 == 0 ? (snapshot, snapshot.policy.grant(["s0"])) : nil
                        if finished { break }
                        await Task.yield()
                    }
                    return (counts, mismatches, 0)
                }
            }
            var merged: (counts: [Int: Int], mismatches: Int, rejectedOK: Int) = ([:], 0, 0)
            for await r in group {
                merged.counts.merge(r.counts, uniquingKeysWith: +)
                merged.mismatches += r.mismatches
                merged.rejectedOK += r.rejectedOK
            }
            return merged
        }

        let decisions = results.counts.values.reduce(0, +)
        print("reload: \(reloads) swaps, \(decisions) checked decisions over \(results.counts.count) versions")
        #expect(results.mismatches == 0)
        #expect(results.counts[-1] == nil, "a snapshot version without a load counter")
        #expect(results.rejectedOK == reloads / 50, "a broken policy replaced a good one")
        #expect(results.counts.count > 1, "readers never saw a reload")
        #expect(results.counts.keys.allSatisfy { (0...reloads).contains($0) })
        #expect(results.counts[reloads, default: 0] >= readers, "every reader ends on the final version")
        #expect(Self.counter(store.current) == reloads + 1)
        #expect(Self.check(store.current).ok)
    }

    @Test(arguments: ReloadTests.broken.indices)
    func brokenPolicyNeverReplacesGoodOne(_ index: Int) throws {
        let initial = try PolicyCompiler().compile(source: Self.source(version: 0), name: "v.yaml").compiled()
        let store = PolicyStore(initial: initial)
        store.reload(source: Self.source(version: 1), name: "v.yaml")
        let before = store.current
        let outcome = store.reload(source: Self.broken[index], name: "bad.yaml")
        guard case .rejected(let diagnostics, _) = outcome else {
            Issue.record("broken policy \(index) was swapped in")
            return
        }
        #expect(diagnostics.hasErrors)
        #expect(store.current.version == before.version)
        #expect(store.current.policy.stamp == before.policy.stamp)
        #expect(Self.check(store.current) == (1, true))
        // A later good policy still goes in, with the next load counter.
        guard case .swapped(let snapshot, _) = store.reload(source: Self.source(version: 2), name: "v.yaml") else {
            Issue.record("good policy rejected after a broken one")
            return
        }
        #expect(Self.counter(snapshot) == 3)
        #expect(Self.check(store.current) == (2, true))
    }

    @Test func grantFromAnotherVersionIsReResolved() throws {
        let a = try PolicyCompiler().compile(source: Self.source(version: 0), name: "v.yaml").compiled()
        // Same names, different interning order: a stale bitset would be misread.
        let b = try PolicyCompiler().compile(
            source: """
                version: 1
                scopes:
                  s1: {}
                  s0: {}
                tools:
                  t: s1
                """, name: "w.yaml"
        ).compiled()
        let staleS0 = a.grant(["s0"])
        #expect(a.decide(.tool("t"), grant: staleS0).allowed)
        let decision = b.decide(.tool("t"), grant: staleS0)
        #expect(!decision.allowed)
        #expect(b.names(decision.missing) == ["s1"])
        #expect(b.decide(.tool("t"), grant: a.grant(["s1"])).allowed)
    }
}
