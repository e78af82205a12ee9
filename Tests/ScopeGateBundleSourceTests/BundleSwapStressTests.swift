import Foundation
import ScopeGate
import ScopeGateBundleSource
import ScopeGateOperations
import Testing

/// Bundle swaps under real parallelism (OS threads deciding while the source polls new revisions in), as
/// `ReloadStressTests` does for files: every revision `k` decides differently (``Bundles/source(_:)``), so each
/// decision is checked against the revision its snapshot holds, and counted per revision.
@Suite struct BundleSwapStressTests {
    struct Tally: Sendable {
        var perRevision: [Int: Int] = [:]
        var mismatches = 0
        var wentBack = 0
        var decisions: Int { perRevision.values.reduce(0, +) }
    }

    /// Whether every decision of `policy` is that of the revision it was built from.
    static func check(_ policy: CompiledPolicy) -> (revision: Int, ok: Bool) {
        let k = Bundles.revision(of: policy)
        let a = policy.grant(["a"])
        let b = policy.grant(["b"])
        let ok =
            k >= 0 && policy.decide(.tool("probe"), grant: a).allowed == (k % 2 == 0)
            && policy.decide(.tool("probe"), grant: b).allowed == (k % 2 == 1)
            && policy.decide(.tool("rev_\(k)"), grant: a).allowed
            && policy.decide(.tool("rev_\(k + 1)"), grant: a).reason == .unknownTool
        return (k, ok)
    }

    @Test func threadsDecideWhileRevisionsAreSwappedIn() async throws {
        let revisions = 60
        let bundles = try (0...revisions).map { try Bundles.bundle($0) }
        let server = FakeBundleServer()
        server.publish(bundles[0])
        let prometheus = PrometheusMetrics()
        let source = try await BundlePolicySource.start(
            BundleSourceConfiguration(url: URL(string: "http://127.0.0.1:1/b")!, key: Bundles.verification),
            fetcher: server, clock: FakeClock(), metrics: prometheus.metrics, logger: quietLogger)
        let store = source.store

        let readers = 6
        let done = LockedValue(false)
        let started = LockedValue(0)
        let tallies = LockedValue([Tally]())
        let finished = DispatchGroup()
        for _ in 0..<readers {
            finished.enter()
            Thread {
                var tally = Tally()
                var last = -1
                started.withLock { $0 += 1 }
                while true {
                    let stop = done.withLock { $0 }
                    let (k, ok) = Self.check(store.current.policy)
                    tally.perRevision[k, default: 0] += 1
                    if !ok { tally.mismatches += 1 }
                    if k < last { tally.wentBack += 1 }
                    last = max(last, k)
                    if stop { break }
                }
                tallies.withLock { $0.append(tally) }
                finished.leave()
            }.start()
        }
        while started.withLock({ $0 }) < readers { try await Task.sleep(for: .milliseconds(1)) }

        // Every 10th revision is first published tampered: it must be refused, the previous one staying.
        var refusedKept = 0
        for k in 1...revisions {
            if k % 10 == 0 {
                let before = store.current.version
                server.publish(Bundles.tampered(bundles[k]))
                await source.poll()
                if store.current.version == before { refusedKept += 1 }
            }
            server.publish(bundles[k])
            await source.poll()
            #expect(Bundles.revision(of: store.current.policy) == k)
        }
        done.withLock { $0 = true }
        #expect(finished.wait(timeout: .now() + 120) == .success, "readers did not finish")

        let all = tallies.withLock { $0 }
        var merged: [Int: Int] = [:]
        for tally in all { merged.merge(tally.perRevision, uniquingKeysWith: +) }
        print(
            """
            bundle swap stress: \(revisions) revisions (\(revisions / 10) tampered refused: \(refusedKept)), \
            \(readers) reader threads, \(all.reduce(0) { $0 + $1.decisions }) checked decisions over \
            \(merged.count) revisions
            """)
        #expect(all.count == readers)
        #expect(refusedKept == revisions / 10, "a tampered bundle replaced a good one")
        #expect(all.allSatisfy { $0.mismatches == 0 }, "a decision disagreed with its snapshot's revision")
        #expect(all.allSatisfy { $0.wentBack == 0 }, "a reader saw an older revision after a newer one")
        #expect(merged[-1] == nil)
        #expect(merged.count > 1, "readers never saw a swap")
        #expect(merged[revisions, default: 0] >= readers, "every reader ends on the last revision")
        #expect(
            sample(prometheus.text, #"scopegate_policy_activation_failures_total{cause="verify"}"#)
                == Double(revisions / 10))
    }
}
