// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ScopeGate",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ScopeGate", targets: ["ScopeGate"]),
        .library(name: "ScopeGateTokens", targets: ["ScopeGateTokens"]),
        .executable(name: "scopegate", targets: ["scopegate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.1.0"..<"6.0.0"),
    ],
    targets: [
        // Core: model, loading, compiler, matcher, decisions, least privilege. Depends only on Yams.
        .target(
            name: "ScopeGate",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Bearer tokens: JWT/JWKS verification, introspection, claim profiles. Knows nothing of MCP.
        .target(
            name: "ScopeGateTokens",
            dependencies: [
                "ScopeGate",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "scopegate",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Shared by the library and CLI test targets: the decision corpus reader (Tests/Corpus).
        .target(name: "ScopeGateTestSupport", dependencies: ["ScopeGate"], path: "Tests/Support"),
        .testTarget(name: "ScopeGateTests", dependencies: ["ScopeGate", "ScopeGateTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ScopeGateTokensTests",
            dependencies: [
                "ScopeGateTokens",
                "ScopeGate",
                // Tests generate keys and sign tokens with swift-crypto directly (an oracle independent of jwt-kit).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"]  // read by path (#filePath), not as bundle resources
        ),
        .testTarget(name: "ScopeGateCLITests", dependencies: ["ScopeGate", "scopegate", "ScopeGateTestSupport", .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
