// ScopeGate benchmarks: the decision hot path, grant resolution, policy compilation and least privilege, on
// seeded synthetic policies (`SyntheticPolicy`). Targets and results: docs/performance.md.
//
//   cd Benchmarks && swift package --disable-sandbox benchmark
//   swift package --disable-sandbox benchmark thresholds check     # against Thresholds/*.p90.json
import Benchmark
import Foundation
import ScopeGate
import ScopeGateTesting

/// Inputs shared by all benchmarks, built once per process (outside every measurement).
enum Fixture {
    static let seed: UInt64 = 42
    static let toolCount = 10_000
    static let scopeCount = 5_000
    static let options = LoadOptions(environment: [:])

    static let source = SyntheticPolicy.generate(tools: toolCount, scopes: scopeCount, seed: seed)
    static let policy: CompiledPolicy = {
        do {
            return try PolicyCompiler(options: options).compile(source: source, name: "synthetic.yaml").compiled()
        } catch {
            fatalError("the synthetic policy must compile: \(error)")  // benchmark setup, not a request path
        }
    }()
    static let samples = SyntheticPolicy.sampleCalls(tools: toolCount, scopes: scopeCount, seed: seed, count: 64)

    static let tenScopes = SyntheticPolicy.grantStrings(tools: toolCount, scopes: scopeCount, seed: seed, count: 10)

    static func sample(_ kind: SyntheticPolicy.SampleKind, allowed: Bool) -> SyntheticPolicy.Sample {
        guard let sample = samples.first(where: { $0.kind == kind && $0.expectAllowed == allowed }) else {
            fatalError("no \(kind) sample with allowed=\(allowed)")
        }
        return sample
    }

    /// An audit log (design.md "Records") of `auditLineCount` events from 20 clients on the synthetic policy, written
    /// once to a temporary file (opened, then unlinked, so nothing is left behind; each run rewinds the descriptor):
    /// the input of `scopegate suggest`. `required` is one of 400 policy scopes (so each
    /// client has a few dozen distinct requirements), `granted` adds one more; one event in ten is a denial.
    static let auditLineCount = 100_000
    static let auditLog: Int32 = {
        let scopes = SyntheticPolicy.grantStrings(tools: toolCount, scopes: scopeCount, seed: seed, count: 400)
        var text = ""
        text.reserveCapacity(auditLineCount * 300)
        for i in 0..<auditLineCount {
            let client = i % 20
            let scope = scopes[(i &* 7 &+ client &* 13) % scopes.count]
            let other = scopes[(client &* 31) % scopes.count]
            let allowed = i % 10 != 0
            text += #"{"v":1,"time":"2026-11-23T12:00:00Z","client_id":"client-\#(client)","sub":"user-\#(i % 97)","#
            text += #""jti":null,"method":"tools/call","tool":"tool_\#(i % 9_000)","action":null,"#
            text += #""arguments":{"path":"[redacted]"},"granted":["\#(scope)","\#(other)"],"allowed":\#(allowed),"#
            text += #""reason":"\#(allowed ? "allowed" : "missing_scope")","required":["\#(scope)"],"missing":[],"#
            text += #""rule":"synthetic.yaml:\#(i % 9_000 + 40):3","policy_version":"sha256:0-1"}"# + "\n"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "scopegate-bench-audit-\(getpid()).jsonl"
        ).path
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let fd = open(path, O_RDONLY)
        unlink(path)
        return fd
    }()

    static func clientTools(_ count: Int) -> [ToolSelection] {
        SyntheticPolicy.toolNames(tools: toolCount, scopes: scopeCount, seed: seed, count: count).map {
            ToolSelection(tool: $0)
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    // Tolerances: a run whose p90 exceeds the checked-in `Thresholds/*.p90.json` value by more than these fails
    // `benchmark thresholds check`. Allocation counts on the allow path must not grow at all.
    let timeTolerance = BenchmarkThresholds(relative: [.p90: 25.0])
    let exactCount = BenchmarkThresholds(absolute: [.p90: 0])
    let hotPath: [BenchmarkMetric] = [.wallClock, .mallocCountTotal]
    let hotThresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .wallClock: timeTolerance, .mallocCountTotal: exactCount,
    ]

    // MARK: decisions (10,000 tools, 5,000 scopes); the grant is resolved once, outside the loop

    Benchmark(
        "Decide allow exact tool",
        configuration: .init(
            metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(3), thresholds: hotThresholds)
    ) { benchmark in
        let policy = Fixture.policy
        let sample = Fixture.sample(.exactTool, allowed: true)
        let grant = policy.grant(sample.granted)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.decide(sample.call, grant: grant))
        }
        benchmark.stopMeasurement()
        if !policy.decide(sample.call, grant: grant).allowed { benchmark.error("expected an allow") }
    }

    Benchmark(
        "Decide deny missing",
        configuration: .init(
            metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(3), thresholds: [.wallClock: timeTolerance])
    ) { benchmark in
        let policy = Fixture.policy
        let sample = Fixture.sample(.exactTool, allowed: false)
        let grant = policy.grant(sample.granted)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.decide(sample.call, grant: grant))
        }
        benchmark.stopMeasurement()
        if policy.decide(sample.call, grant: grant).missing.isEmpty {
            benchmark.error("expected a denial with `missing`")
        }
    }

    // The yes/no call (no Decision, no cheapest completion) on the same two samples: reported, no target.
    for (name, allowed) in [("allow", true), ("deny", false)] {
        Benchmark(
            "isAllowed \(name) exact tool",
            configuration: .init(
                metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
                maxDuration: .seconds(3))
        ) { benchmark in
            let policy = Fixture.policy
            let sample = Fixture.sample(.exactTool, allowed: allowed)
            let grant = policy.grant(sample.granted)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(policy.isAllowed(sample.call, grant: grant))
            }
            benchmark.stopMeasurement()
            if policy.isAllowed(sample.call, grant: grant) != allowed {
                benchmark.error("expected allowed == \(allowed)")
            }
        }
    }

    Benchmark(
        "Decide allow glob tool with condition",
        configuration: .init(
            metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(3), thresholds: hotThresholds)
    ) { benchmark in
        let policy = Fixture.policy
        let sample = Fixture.sample(.globTool, allowed: true)
        let grant = policy.grant(sample.granted)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.decide(sample.call, grant: grant))
        }
        benchmark.stopMeasurement()
        if !policy.decide(sample.call, grant: grant).allowed { benchmark.error("expected an allow") }
    }

    Benchmark(
        "Resolve 10-scope grant",
        configuration: .init(
            metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(3), thresholds: [.wallClock: timeTolerance])
    ) { benchmark in
        let policy = Fixture.policy
        let strings = Fixture.tenScopes
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.grant(strings))
        }
        benchmark.stopMeasurement()
    }

    // MARK: compilation

    Benchmark(
        "Compile 10000 tools 5000 scopes",
        configuration: .init(
            metrics: [
                .wallClock, .mallocCountTotal, .mallocBytesCount, .peakMemoryResident,
                .peakMemoryResidentDelta,
            ],
            timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(20),
            maxIterations: 20, thresholds: [.wallClock: timeTolerance])
    ) { benchmark in
        let source = Fixture.source
        benchmark.startMeasurement()
        let result = PolicyCompiler(options: Fixture.options).compile(source: source, name: "synthetic.yaml")
        let compiled = try? result.compiled()
        benchmark.stopMeasurement()
        blackHole(compiled)
        if compiled == nil { benchmark.error("the synthetic policy did not compile") }
    }

    // MARK: least privilege (10,000 tools, 5,000 scopes)

    for clientSize in [100, 1_000] {
        Benchmark(
            "Least privilege \(clientSize)-tool client",
            configuration: .init(
                metrics: [
                    .wallClock, .mallocCountTotal,
                    .custom("optimal", polarity: .prefersLarger, useScalingFactor: false),
                    .custom("gap", polarity: .prefersSmaller, useScalingFactor: false),
                    .custom("cost", polarity: .prefersSmaller, useScalingFactor: false),
                ],
                timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(10),
                maxIterations: 50, thresholds: [.wallClock: timeTolerance])
        ) { benchmark in
            let solver = LeastPrivilegeSolver(policy: Fixture.policy)
            let selections = Fixture.clientTools(clientSize)
            var optimal = true
            var gap = 0
            var cost = 0
            benchmark.startMeasurement()
            do {
                let result = try solver.minimal(for: selections)
                optimal = result.optimal
                gap = result.cost - result.lowerBound
                cost = result.cost
                blackHole(result)
            } catch {
                benchmark.error("least privilege failed: \(error)")
            }
            benchmark.stopMeasurement()
            benchmark.measurement(
                .custom("optimal", polarity: .prefersLarger, useScalingFactor: false), optimal ? 1 : 0)
            // Cost minus the proven lower bound (0 when optimal): how far a greedy answer can be from the optimum.
            benchmark.measurement(.custom("gap", polarity: .prefersSmaller, useScalingFactor: false), gap)
            benchmark.measurement(.custom("cost", polarity: .prefersSmaller, useScalingFactor: false), cost)
        }
    }

    // MARK: usage analysis (`scopegate suggest`: read an audit log, then least privilege per client)

    Benchmark(
        "Suggest 100000 audit lines",
        configuration: .init(
            metrics: [
                .wallClock, .cpuTotal, .mallocCountTotal,
                .custom("klines_per_s", polarity: .prefersLarger, useScalingFactor: false),
            ],
            timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(10),
            maxIterations: 50, thresholds: [.wallClock: timeTolerance])
    ) { benchmark in
        let fd = Fixture.auditLog
        let solver = LeastPrivilegeSolver(policy: Fixture.policy)
        guard fd >= 0, lseek(fd, 0, SEEK_SET) == 0 else {
            benchmark.error("cannot read the audit log")
            return
        }
        let clock = ContinuousClock()
        let start = clock.now
        benchmark.startMeasurement()
        var aggregator = UsageAggregator()
        let ok = aggregator.consume(fileDescriptor: fd) { _ in }
        let suggestions = aggregator.usage.map { solver.suggest(for: $0) }
        benchmark.stopMeasurement()
        let elapsed = clock.now - start
        blackHole(suggestions)
        if !ok || aggregator.malformed != 0 || aggregator.lines != Fixture.auditLineCount || suggestions.count != 20 {
            benchmark.error("unexpected suggest input: \(aggregator.lines) lines, \(aggregator.malformed) malformed")
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        benchmark.measurement(
            .custom("klines_per_s", polarity: .prefersLarger, useScalingFactor: false),
            Int(Double(Fixture.auditLineCount) / seconds / 1_000))
    }
}
