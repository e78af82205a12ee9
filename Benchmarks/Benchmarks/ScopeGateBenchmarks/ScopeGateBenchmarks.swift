// ScopeGate benchmarks: the decision hot path, grant resolution, policy compilation and least privilege, on
// seeded synthetic policies (`SyntheticPolicy`). Targets and results: docs/performance.md.
//
//   cd Benchmarks && swift package --disable-sandbox benchmark
//   swift package --disable-sandbox benchmark thresholds check     # against Thresholds/*.p90.json
import Benchmark
import ScopeGate

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
            fatalError("the synthetic policy must compile: \(error)")   // benchmark setup, not a request path
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

    static func clientTools(_ count: Int) -> [ToolSelection] {
        SyntheticPolicy.toolNames(tools: toolCount, scopes: scopeCount, seed: seed, count: count).map { ToolSelection(tool: $0) }
    }
}

let benchmarks: @Sendable () -> Void = {
    // Tolerances: a run whose p90 exceeds the checked-in `Thresholds/*.p90.json` value by more than these fails
    // `benchmark thresholds check`. Allocation counts on the allow path must not grow at all.
    let timeTolerance = BenchmarkThresholds(relative: [.p90: 25.0])
    let exactCount = BenchmarkThresholds(absolute: [.p90: 0])
    let hotPath: [BenchmarkMetric] = [.wallClock, .mallocCountTotal]
    let hotThresholds: [BenchmarkMetric: BenchmarkThresholds] = [.wallClock: timeTolerance, .mallocCountTotal: exactCount]

    // MARK: decisions (10,000 tools, 5,000 scopes); the grant is resolved once, outside the loop

    Benchmark("Decide allow exact tool",
              configuration: .init(metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
                                   maxDuration: .seconds(3), thresholds: hotThresholds)) { benchmark in
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

    Benchmark("Decide deny missing",
              configuration: .init(metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
                                   maxDuration: .seconds(3), thresholds: [.wallClock: timeTolerance])) { benchmark in
        let policy = Fixture.policy
        let sample = Fixture.sample(.exactTool, allowed: false)
        let grant = policy.grant(sample.granted)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.decide(sample.call, grant: grant))
        }
        benchmark.stopMeasurement()
        if policy.decide(sample.call, grant: grant).missing.isEmpty { benchmark.error("expected a denial with `missing`") }
    }

    Benchmark("Decide allow glob tool with condition",
              configuration: .init(metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
                                   maxDuration: .seconds(3), thresholds: hotThresholds)) { benchmark in
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

    Benchmark("Resolve 10-scope grant",
              configuration: .init(metrics: hotPath, timeUnits: .nanoseconds, scalingFactor: .kilo,
                                   maxDuration: .seconds(3), thresholds: [.wallClock: timeTolerance])) { benchmark in
        let policy = Fixture.policy
        let strings = Fixture.tenScopes
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(policy.grant(strings))
        }
        benchmark.stopMeasurement()
    }

    // MARK: compilation

    Benchmark("Compile 10000 tools 5000 scopes",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .mallocBytesCount, .peakMemoryResident,
                                             .peakMemoryResidentDelta],
                                   timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(20),
                                   maxIterations: 20, thresholds: [.wallClock: timeTolerance])) { benchmark in
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
        Benchmark("Least privilege \(clientSize)-tool client",
                  configuration: .init(metrics: [.wallClock, .mallocCountTotal,
                                                 .custom("optimal", polarity: .prefersLarger, useScalingFactor: false)],
                                       timeUnits: .milliseconds, warmupIterations: 1, maxDuration: .seconds(10),
                                       maxIterations: 50, thresholds: [.wallClock: timeTolerance])) { benchmark in
            let solver = LeastPrivilegeSolver(policy: Fixture.policy)
            let selections = Fixture.clientTools(clientSize)
            var optimal = true
            benchmark.startMeasurement()
            do {
                let result = try solver.minimal(for: selections)
                optimal = result.optimal
                blackHole(result)
            } catch {
                benchmark.error("least privilege failed: \(error)")
            }
            benchmark.stopMeasurement()
            benchmark.measurement(.custom("optimal", polarity: .prefersLarger, useScalingFactor: false), optimal ? 1 : 0)
        }
    }
}
