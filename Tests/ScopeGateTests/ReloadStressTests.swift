import Foundation
import Testing

@testable import ScopeGate

/// Reload under real parallelism (OS threads, not only cooperative tasks), for ThreadSanitizer
/// (`swift test --sanitize=thread --filter 'ReloadTests|ReloadStress|JWKS'`). Every version `k` decides
/// differently (see ``ReloadTests/source(version:)``), so each decision is checked against the version its
/// snapshot names, and counted per version.
@Suite struct ReloadStressTests {
    /// One reader's tally.
    struct Tally: Sendable {
        var perVersion: [Int: Int] = [:]
        var mismatches = 0
        /// Times a reader saw an older version after a newer one (the store must be linearizable).
        var wentBack = 0
        var decisions: Int { perVersion.values.reduce(0, +) }
    }

    @Test func threadsDecideWhileHundredsOfReloadsSwap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-stress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.yaml").path

        let initial = try PolicyCompiler().compile(source: ReloadTests.source(version: 0), name: "v.yaml").compiled()
        let store = PolicyStore(initial: initial)
        let reloads = 400
        let readers = 8
        let done = LockedValue(false)
        let started = LockedValue(0)
        let tallies = LockedValue([Tally]())

        var threads: [Thread] = []
        let finished = DispatchGroup()
        for r in 0..<readers {
            finished.enter()
            let thread = Thread {
                var tally = Tally()
                var last = -1
                var stale: Grant?
                started.withLock { $0 += 1 }
                while true {
                    let stop = done.withLock { $0 }
                    let snapshot = store.current
                    // Odd readers reuse a grant resolved against an earlier version: it must be re-resolved.
                    let (k, ok) = ReloadTests.check(snapshot, s0: r % 2 == 1 ? stale : nil)
                    tally.perVersion[k, default: 0] += 1
                    if !ok { tally.mismatches += 1 }
                    if k < last { tally.wentBack += 1 }
                    last = max(last, k)
                    if tally.decisions % 7 == 0 { stale = snapshot.policy.grant(["s0"]) }
                    if stop { break }
                }
                tallies.withLock { $0.append(tally) }
                finished.leave()
            }
            threads.append(thread)
            thread.start()
        }
        while started.withLock({ $0 }) < readers { usleep(1_000) }

        // The writer: reloads alternate between source text and a file on disk (rewritten atomically), with a
        // broken policy every 25th time (it must never replace the good one).
        var rejectedOK = 0
        var swapFailures = 0
        for k in 1...reloads {
            if k % 25 == 0 {
                let before = store.current.version
                let bad = ReloadTests.broken[(k / 25) % ReloadTests.broken.count]
                try bad.write(toFile: path, atomically: true, encoding: .utf8)
                if case .rejected = store.reload(path: path), store.current.version == before { rejectedOK += 1 }
            }
            let outcome: ReloadOutcome
            if k % 2 == 0 {
                try ReloadTests.source(version: k).write(toFile: path, atomically: true, encoding: .utf8)
                outcome = store.reload(path: path)
            } else {
                outcome = store.reload(source: ReloadTests.source(version: k), name: "v.yaml")
            }
            guard case .swapped(let snapshot, _) = outcome, ReloadTests.counter(snapshot) == k + 1 else {
                swapFailures += 1
                continue
            }
        }
        done.withLock { $0 = true }
        #expect(finished.wait(timeout: .now() + 120) == .success, "readers did not finish")

        let all = tallies.withLock { $0 }
        var merged: [Int: Int] = [:]
        for t in all { merged.merge(t.perVersion, uniquingKeysWith: +) }
        let decisions = all.reduce(0) { $0 + $1.decisions }
        let perVersion = merged.filter { $0.key >= 0 }.values
        print(
            """
            reload stress: \(reloads) reloads (\(reloads / 2) from file, \(reloads / 25) broken rejected: \(rejectedOK)), \
            \(readers) reader threads, \(decisions) checked decisions over \(merged.count) versions \
            (per version min \(perVersion.min() ?? 0), max \(perVersion.max() ?? 0)); \
            per reader: \(all.map(\.decisions).sorted())
            """)
        #expect(all.count == readers)
        #expect(swapFailures == 0)
        #expect(rejectedOK == reloads / 25, "a broken policy replaced a good one")
        #expect(all.allSatisfy { $0.mismatches == 0 }, "a decision disagreed with its snapshot's version")
        #expect(all.allSatisfy { $0.wentBack == 0 }, "a reader saw an older version after a newer one")
        #expect(merged[-1] == nil)
        #expect(merged.count > 1, "readers never saw a reload")
        #expect(merged[reloads, default: 0] >= readers, "every reader ends on the final version")
        #expect(ReloadTests.check(store.current) == (reloads, true))
    }
}
