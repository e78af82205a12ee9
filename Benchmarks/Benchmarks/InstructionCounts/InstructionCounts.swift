// InstructionCounts: the benchmark rows' bodies, each run a fixed number of iterations, for counting instructions
// under valgrind's callgrind (the same count on every run, where wall time on this shared machine varies by up to
// 1.8×). scripts/bench-check.sh runs it and compares the counts with Thresholds/instructions.tsv.
//
//   valgrind --tool=callgrind --collect-atstart=no --toggle-collect=sgrow_measure --dump-after=sgrow_measure \
//       Benchmarks/.build/release/InstructionCounts
//
// Each row runs once unmeasured (lazy statics, runtime metadata and caches are filled), then once inside
// `sgrow_measure`, so each callgrind dump holds exactly one row. Prints one line per row, in dump order:
// `<row> <iterations>`. Not an ordo-one benchmark (the benchmark plugin does not run it).
import BenchmarkSupport
import Foundation
import ScopeGate
import ScopeGateTesting

/// Keeps a value alive so the optimizer cannot drop the work that made it.
@inline(never)
func keep<T>(_ value: T) {
    withExtendedLifetime(value) {}
}

struct Row {
    let name: String
    let iterations: Int
    let body: (Int) -> Void
}

/// The measured call: callgrind collects only inside this function and dumps when it returns. Not optimized, so
/// the optimizer makes no specialized copy under another symbol name for callgrind to miss.
@_silgen_name("sgrow_measure")
@_optimize(none)
@inline(never)
func measure(_ row: Row) {
    row.body(row.iterations)
}

func single(_ kind: SyntheticPolicy.SampleKind, allowed: Bool, decide: Bool) -> (Int) -> Void {
    let policy = Fixture.policy
    let sample = Fixture.sample(kind, allowed: allowed)
    let grant = policy.grant(sample.granted)
    if decide {
        return { n in for _ in 0..<n { keep(policy.decide(sample.call, grant: grant)) } }
    }
    return { n in for _ in 0..<n { keep(policy.isAllowed(sample.call, grant: grant)) } }
}

/// Runs `body` on `n` draws from `pool` in its visiting order, with each call and grant passed straight from the
/// pool's buffers, and the position after the draw.
@inline(__always)
func draws(_ pool: MixedWorkload, _ n: Int, _ body: (Call, Grant, Int) -> Void) {
    pool.calls.withUnsafeBufferPointer { calls in
        pool.grants.withUnsafeBufferPointer { grants in
            var position = 0
            for _ in 0..<n {
                let i = pool.next(&position)
                body(calls[i], grants[i], position)
            }
        }
    }
}

func mixed(_ pool: MixedWorkload, decide: Bool) -> (Int) -> Void {
    let policy = Fixture.policy
    return { n in
        draws(pool, n) { call, grant, _ in
            if decide {
                keep(policy.decide(call, grant: grant))
            } else {
                keep(policy.isAllowed(call, grant: grant))
            }
        }
    }
}

/// The mixed rows' floor: the same pool reads and calls, with no decision (``MixedWorkload/touch(_:grant:position:)``).
func floorRow(_ pool: MixedWorkload) -> (Int) -> Void {
    { n in draws(pool, n) { call, grant, position in keep(MixedWorkload.touch(call, grant: grant, position: position)) }
    }
}

let hot = 10_000
let pass = MixedWorkload.orderLength
let rows: [Row] = [
    Row(name: "decide_allow_exact_tool", iterations: hot, body: single(.exactTool, allowed: true, decide: true)),
    Row(name: "decide_deny_missing", iterations: hot, body: single(.exactTool, allowed: false, decide: true)),
    Row(name: "isallowed_allow_exact_tool", iterations: hot, body: single(.exactTool, allowed: true, decide: false)),
    Row(name: "isallowed_deny_exact_tool", iterations: hot, body: single(.exactTool, allowed: false, decide: false)),
    Row(name: "decide_allow_glob_tool", iterations: hot, body: single(.globTool, allowed: true, decide: true)),
    Row(name: "mixed_isallowed", iterations: pass, body: mixed(MixedWorkload.mixed, decide: false)),
    Row(name: "mixed_decide_allow", iterations: pass, body: mixed(MixedWorkload.allows, decide: true)),
    Row(name: "mixed_decide_deny", iterations: pass, body: mixed(MixedWorkload.denials, decide: true)),
    Row(name: "mixed_floor", iterations: pass, body: floorRow(MixedWorkload.mixed)),
    Row(name: "resolve_10_scope_grant", iterations: hot) { n in
        for _ in 0..<n { keep(Fixture.policy.grant(Fixture.tenScopes)) }
    },
    Row(name: "compile_10000_tools", iterations: 1) { n in
        for _ in 0..<n { keep(try? Fixture.compile()) }
    },
    Row(name: "least_privilege_100_tools", iterations: 1) { n in
        let solver = LeastPrivilegeSolver(policy: Fixture.policy)
        let selections = Fixture.clientTools(100)
        for _ in 0..<n { keep(try? solver.minimal(for: selections)) }
    },
]

// `--time`: wall clock instead, for a quick paired comparison of two builds (run them alternately; this machine's
// wall time moves by up to 2× between runs, so compare the fastest passes). Each decision and mixed row runs one
// warm-up pass and nine timed ones; printed per row: the fastest, median and slowest pass, in ns per iteration.
if CommandLine.arguments.contains("--time") {
    for row in rows where row.name.hasPrefix("mixed") || row.name.hasPrefix("decide") {
        row.body(row.iterations)
        var passes: [Int] = []
        for _ in 0..<9 {
            let start = DispatchTime.now().uptimeNanoseconds
            row.body(row.iterations)
            passes.append(Int(DispatchTime.now().uptimeNanoseconds - start) / row.iterations)
        }
        passes.sort()
        print(row.name, passes[0], passes[4], passes[8])
    }
    exit(0)
}

for row in rows { row.body(min(row.iterations, 100)) }
for row in rows {
    measure(row)
    print(row.name, row.iterations)
}
