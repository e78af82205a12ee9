// swift-tools-version: 6.1
// Benchmarks for ScopeGate, kept in a separate package so the main build and test cycle stay fast.
// Run from this folder: `swift package --disable-sandbox benchmark --target ScopeGateBenchmarks` (see
// docs/performance.md); PeerBench and InstructionCounts are plain executables, not ordo-one benchmarks.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so the identity of `..` depends on where the repository was
/// cloned (`main`, `scopegate`, …). Derive it from this manifest's location instead of hard-coding it.
let coreIdentity = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let package = Package(
    name: "ScopeGateBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        // TokenBenchmarks: keys and tokens are made with swift-crypto; jwt-kit's raw verify is the comparison.
        .package(url: "https://github.com/apple/swift-crypto", "4.1.0"..<"6.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
    ],
    targets: [
        // The fixtures and workloads shared by ScopeGateBenchmarks and InstructionCounts.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "ScopeGate", package: coreIdentity),
                .product(name: "ScopeGateTesting", package: coreIdentity),
            ],
            path: "Benchmarks/BenchmarkSupport"
        ),
        .executableTarget(
            name: "ScopeGateBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ScopeGate", package: coreIdentity),
                .product(name: "ScopeGateTesting", package: coreIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ScopeGateBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TokenBenchmarks",
            dependencies: [
                .product(name: "ScopeGateTokens", package: coreIdentity),
                // The verifier's initializer without a fetcher (the benchmark uses static keys: nothing is fetched).
                .product(name: "ScopeGateURLSession", package: coreIdentity),
                .product(name: "ScopeGate", package: coreIdentity),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/TokenBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Not an ordo-one benchmark: the benchmark rows at fixed iteration counts, for callgrind's instruction counts
        // (scripts/bench-check.sh, the CI gate on time).
        .executableTarget(
            name: "InstructionCounts",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "ScopeGate", package: coreIdentity),
                .product(name: "ScopeGateTesting", package: coreIdentity),
            ],
            path: "Benchmarks/InstructionCounts"
        ),
        // Not an ordo-one benchmark: the library side of bench/peers/run.sh (ScopeGate vs Cedar, OPA, Casbin).
        .executableTarget(
            name: "PeerBench",
            dependencies: [.product(name: "ScopeGate", package: coreIdentity)],
            path: "Benchmarks/PeerBench"
        ),
    ]
)
