// PeerBench: ScopeGate's library path for the side-by-side comparison with Cedar, OPA and Casbin
// (bench/peers/run.sh, docs/performance.md). Not an ordo-one benchmark: it measures one workload the way
// bench/peers/engines.py measures each peer, so the numbers line up.
//
//   swift build -c release --package-path Benchmarks --scratch-path Benchmarks/.build --product PeerBench
//   Benchmarks/.build/release/PeerBench POLICY.yaml REQUESTS.jsonl [--min-seconds S] [--batch B]
//       [--compile-reps N] [--baseline | --memory]
//
// Prints one JSON object: compile time (policy file on disk → `CompiledPolicy`, median of N; the previous repetition's
// policy is freed before the timer starts, as engines.py does for the peers), and for three modes
// the per-decision latency (median, p99), mean, throughput, plus every decision and the peak RSS:
// - `cached`: each distinct token's grant is resolved once, outside the timer (ScopeGate's documented usage: a
//   token's grant is resolved once and reused), and `isAllowed(_:grant:)` — the yes/no answer the peers give —
//   is timed;
// - `per_request`: `grant(_:)` + `isAllowed(_:grant:)` are both timed for every request;
// - `decide`: as `cached`, but the full `decide(_:grant:)` (reason, rule, and for a denial the cheapest
//   completion), which no peer computes.
// Latency samples are taken as in engines.py: the time of a batch of B decisions divided by B.
// `--baseline` stops after reading the requests, so the orchestrator can subtract the process's own footprint.
// `--memory` compiles once and answers every request once, then prints the peak RSS (the memory comparison).
import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Options {
    var policy = ""
    var requests = ""
    var minSeconds = 2.0
    var batch = 20
    var compileReps = 3
    var baseline = false
    var memory = false
}

func parseOptions() -> Options? {
    var o = Options()
    var positional: [String] = []
    var args = CommandLine.arguments.dropFirst().makeIterator()
    while let a = args.next() {
        switch a {
        case "--min-seconds": o.minSeconds = args.next().flatMap(Double.init) ?? o.minSeconds
        case "--batch": o.batch = max(1, args.next().flatMap(Int.init) ?? o.batch)
        case "--compile-reps": o.compileReps = max(1, args.next().flatMap(Int.init) ?? o.compileReps)
        case "--baseline": o.baseline = true
        case "--memory": o.memory = true
        default: positional.append(a)
        }
    }
    guard positional.count == 2 else { return nil }
    o.policy = positional[0]
    o.requests = positional[1]
    return o
}

struct Request {
    let id: String
    let call: Call
    let scopes: [String]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("PeerBench: \(message)\n".utf8))
    exit(2)
}

func loadRequests(_ path: String) -> [Request] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read `\(path)`") }
    var out: [Request] = []
    for line in text.split(separator: "\n") where !line.isEmpty {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let id = object["id"] as? String, let tool = object["tool"] as? String,
            let scopes = object["scopes"] as? [String]
        else { fail("bad request line: \(line.prefix(200))") }
        out.append(Request(id: id, call: .tool(tool), scopes: scopes))
    }
    return out
}

@inline(__always) func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Peak resident set (KiB): VmHWM from /proc/self/status. Not `ru_maxrss`, which on Linux keeps the parent's peak
/// across fork+exec (the orchestrator's, here).
func peakRSSKilobytes() -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            if let kb = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) { return kb }
        }
    }
    return 0  // not Linux: not measured
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let k = Int((p / 100 * Double(sorted.count - 1)).rounded())
    return sorted[min(sorted.count - 1, max(0, k))]
}

struct ModeResult {
    var medianUs = 0.0, p99Us = 0.0, meanUs = 0.0, throughput = 0.0
    var passes = 0, timed = 0
    var allowed: [Bool] = []

    var json: String {
        "{\"median_us\":\(medianUs),\"p99_us\":\(p99Us),\"mean_us\":\(meanUs),\"throughput_per_s\":\(throughput),"
            + "\"passes\":\(passes),\"decisions_timed\":\(timed)}"
    }
}

/// Runs `decide(i)` over all requests in batches of `batch`, in passes until `minSeconds` have passed.
func measure(count: Int, batch: Int, minSeconds: Double, _ decide: (Int) -> Bool) -> ModeResult {
    var r = ModeResult()
    var samples: [Double] = []
    var totalNanos: UInt64 = 0
    let start = nowNanos()
    while r.passes == 0 || Double(nowNanos() - start) / 1e9 < minSeconds {
        var i = 0
        while i < count {
            let end = min(count, i + batch)
            var verdicts = 0
            let t0 = nowNanos()
            for k in i..<end where decide(k) { verdicts &+= 1 }
            let dt = nowNanos() - t0
            samples.append(Double(dt) / Double(end - i))
            totalNanos += dt
            r.timed += end - i
            if r.passes == 0 {
                for k in i..<end { r.allowed.append(decide(k)) }  // outside the timer
            }
            if verdicts < 0 { print("") }  // keeps `verdicts` (and the decisions) alive
            i = end
        }
        r.passes += 1
    }
    samples.sort()
    r.medianUs = percentile(samples, 50) / 1000
    r.p99Us = percentile(samples, 99) / 1000
    r.meanUs = Double(totalNanos) / Double(r.timed) / 1000
    r.throughput = Double(r.timed) / (Double(totalNanos) / 1e9)
    return r
}

guard let options = parseOptions() else {
    fail(
        "usage: PeerBench POLICY.yaml REQUESTS.jsonl [--min-seconds S] [--batch B] [--compile-reps N] [--baseline | --memory]"
    )
}
let requests = loadRequests(options.requests)
if options.baseline {
    print("{\"engine\":\"scopegate-lib\",\"requests\":\(requests.count),\"peak_rss_kb\":\(peakRSSKilobytes())}")
    exit(0)
}

if options.memory {
    // What it takes to load the policy and answer the requests: one compilation, each distinct token's grant, one
    // `isAllowed` and one `decide` per request; no timing passes (their latency samples grow with the speed).
    // The `CompileResult` (diagnostics, and each file's text for rendering them) is not kept: a server keeps
    // the compiled policy only.
    guard
        let policy = try? PolicyCompiler(options: LoadOptions(environment: [:])).compile(path: options.policy)
            .compiled()
    else { fail("the policy has errors") }
    var grants: [[String]: Grant] = [:]
    var allowed = 0
    for r in requests {
        let grant = grants[r.scopes] ?? policy.grant(r.scopes)
        grants[r.scopes] = grant
        if policy.isAllowed(r.call, grant: grant) { allowed += 1 }
        if policy.decide(r.call, grant: grant).allowed { allowed += 1 }
    }
    print(
        "{\"engine\":\"scopegate-lib\",\"requests\":\(requests.count),\"allowed\":\(allowed / 2),"
            + "\"peak_rss_kb\":\(peakRSSKilobytes())}")
    exit(0)
}

var compileNanos: [UInt64] = []
var compiledPolicy: CompiledPolicy?
for _ in 0..<options.compileReps {
    compiledPolicy = nil  // the previous repetition's policy is freed outside the timer
    let t0 = nowNanos()
    let result = PolicyCompiler(options: LoadOptions(environment: [:])).compile(path: options.policy)
    do { compiledPolicy = try result.compiled() } catch { fail("the policy has errors: \(error)") }
    compileNanos.append(nowNanos() - t0)
    if compileNanos.reduce(0, +) > 60_000_000_000 { break }
}
guard let policy = compiledPolicy else { fail("no policy") }
let compileMs = compileNanos.sorted()[(compileNanos.count - 1) / 2]

// Grants resolved once per distinct token, outside the timer.
var byToken: [[String]: Grant] = [:]
let grants: [Grant] = requests.map { r in
    if let g = byToken[r.scopes] { return g }
    let g = policy.grant(r.scopes)
    byToken[r.scopes] = g
    return g
}
// The yes/no question every peer answers: `isAllowed` (no reason, no cheapest completion).
let cached = measure(count: requests.count, batch: options.batch, minSeconds: options.minSeconds) { i in
    policy.isAllowed(requests[i].call, grant: grants[i])
}
let perRequest = measure(count: requests.count, batch: options.batch, minSeconds: options.minSeconds) { i in
    policy.isAllowed(requests[i].call, grant: policy.grant(requests[i].scopes))
}
// The full Decision (reason, rule, and for a denial the cheapest completion `missing`), which no peer computes.
let fullDecision = measure(count: requests.count, batch: options.batch, minSeconds: options.minSeconds) { i in
    policy.decide(requests[i].call, grant: grants[i]).allowed
}
if cached.allowed != perRequest.allowed || cached.allowed != fullDecision.allowed { fail("the modes disagree") }

// Allows and denials separately (cached grants, each decision timed on its own, so ~20–40 ns of clock reads are
// included): a denial also computes `missing`, the cheapest completion, which no peer does.
var allowSamples: [Double] = []
var denySamples: [Double] = []
let splitStart = nowNanos()
repeat {
    for i in requests.indices {
        let t0 = nowNanos()
        let allowed = policy.decide(requests[i].call, grant: grants[i]).allowed
        let dt = Double(nowNanos() - t0)
        if allowed { allowSamples.append(dt) } else { denySamples.append(dt) }
    }
} while Double(nowNanos() - splitStart) / 1e9 < min(1.0, options.minSeconds)
allowSamples.sort()
denySamples.sort()
let split =
    "{\"allow_median_us\":\(percentile(allowSamples, 50) / 1000),\"allow_p99_us\":\(percentile(allowSamples, 99) / 1000),"
    + "\"deny_median_us\":\(percentile(denySamples, 50) / 1000),\"deny_p99_us\":\(percentile(denySamples, 99) / 1000)}"

var decisions = "{"
for (i, r) in requests.enumerated() {
    if i > 0 { decisions += "," }
    decisions += "\"\(r.id)\":\(cached.allowed[i])"
}
decisions += "}"
let allCompile = compileNanos.map { String(Double($0) / 1e6) }.joined(separator: ",")
print(
    "{\"engine\":\"scopegate-lib\",\"requests\":\(requests.count),\"compile_ms\":\(Double(compileMs) / 1e6),"
        + "\"compile_ms_all\":[\(allCompile)],\"batch\":\(options.batch),\"distinct_tokens\":\(byToken.count),"
        + "\"cached\":\(cached.json),\"per_request\":\(perRequest.json),\"decide\":\(fullDecision.json),\"split\":\(split),"
        + "\"peak_rss_kb\":\(peakRSSKilobytes()),\"decisions\":\(decisions)}")
