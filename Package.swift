// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ScopeGate",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ScopeGate", targets: ["ScopeGate"]),
        // Test and benchmark scaffolding (synthetic policies, the Yams reference loader), beside the core.
        .library(name: "ScopeGateTesting", targets: ["ScopeGateTesting"]),
        .library(name: "ScopeGateTokens", targets: ["ScopeGateTokens"]),
        // The token types' HTTP over URLSession (FoundationNetworking and libcurl on Linux) or AsyncHTTPClient.
        .library(name: "ScopeGateURLSession", targets: ["ScopeGateURLSession"]),
        .library(name: "ScopeGateAsyncHTTPClient", targets: ["ScopeGateAsyncHTTPClient"]),
        .executable(name: "scopegate", targets: ["scopegate"]),
        // The network services (`scopegate proxy`), started by `scopegate`; see GatewayLauncher.
        .executable(name: "scopegate-gateway", targets: ["scopegate-gateway"]),
        .library(name: "ScopeGateMCP", targets: ["ScopeGateMCP"]),
        .library(name: "ScopeGateRequestAuthorization", targets: ["ScopeGateRequestAuthorization"]),
        .library(name: "ScopeGateProxy", targets: ["ScopeGateProxy"]),
        .library(name: "ScopeGateOperations", targets: ["ScopeGateOperations"]),
        .library(name: "ScopeGateBundles", targets: ["ScopeGateBundles"]),
        .library(name: "ScopeGateClient", targets: ["ScopeGateClient"]),
        .library(name: "ScopeGateBundleSource", targets: ["ScopeGateBundleSource"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/vapor/jwt-kit", exact: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.1.0"..<"6.0.0"),
        // ScopeGateMCP: the MCP Swift SDK (the only target importing it), logging, metrics and the HTTP server.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // ScopeGateOperations: the Prometheus backend for swift-metrics and its text exposition at `/metrics`.
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        // ScopeGateOperations: lock-free handles of the instruments every allowed request records (swift-prometheus
        // depends on it already).
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(
            url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // ScopeGateProxy: the client that forwards authorized requests to the upstream MCP server.
        .package(url: "https://github.com/swift-server/async-http-client", exact: "1.37.0"),
        // scopegate-gateway: runs the `--metrics-listen` listener beside the main one (Hummingbird runs on it too).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // ScopeGateAuthz: graceful shutdown of its SwiftNIO server (`ServerQuiescingHelper`).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // The system libyaml (apt libyaml-dev, pkg-config yaml-0.1): the core's only YAML dependency.
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        // Core: model, loading, compiler, matcher, decisions, least privilege. Depends only on libyaml.
        .target(
            name: "ScopeGate",
            dependencies: ["CLibYAML"]
        ),
        // Scaffolding for tests, fuzzing and benchmarks: seeded synthetic policies and the loader built on Yams'
        // composer, the reference the event-based loader is checked against.
        .target(
            name: "ScopeGateTesting",
            dependencies: ["ScopeGate", .product(name: "Yams", package: "Yams")]
        ),
        // Bearer tokens: JWT/JWKS verification, introspection, claim profiles. Knows nothing of MCP, and links no
        // HTTP stack: its types fetch through an injected `HTTPFetcher`.
        .target(
            name: "ScopeGateTokens",
            dependencies: [
                "ScopeGate",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `URLSessionFetcher`, and the token types' initializers that default to it: for the CLI, the embedded
        // adapter and library users. Loads FoundationNetworking (libcurl, OpenSSL, GnuTLS, Kerberos… on Linux).
        .target(name: "ScopeGateURLSession", dependencies: ["ScopeGate", "ScopeGateTokens"]),
        // `AsyncHTTPClientFetcher`: the gateway's token and bundle requests, on the client that forwards requests.
        .target(
            name: "ScopeGateAsyncHTTPClient",
            dependencies: [
                "ScopeGate", "ScopeGateTokens",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Authorizes one MCP HTTP request (headers + JSON-RPC body) and filters list results: pure values and
        // functions, no I/O, shared by `scopegate proxy`, `scopegate authz` and the embedded adapter.
        .target(name: "ScopeGateRequestAuthorization", dependencies: ["ScopeGate", "ScopeGateTokens"]),
        // What every long-running service shares: the reloading policy store, the audit log, the metrics
        // (Prometheus exposition), readiness. No HTTP server, no MCP SDK.
        .target(
            name: "ScopeGateOperations",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                "ScopeGateRequestAuthorization",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
            ]
        ),
        // Signed policy bundles: a deterministic ustar archive of a policy's files, a manifest of their hashes and
        // JWS signatures (Ed25519, P-256) over it. No HTTP, no MCP: fetching bundles is the services' business.
        .target(
            name: "ScopeGateBundles",
            dependencies: ["ScopeGate", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // A policy from a signed bundle at a URL, polled (ETag, max-age, backoff), verified, compiled and swapped
        // into a PolicyStore, with the last good bundle kept on disk; downloads with AsyncHTTPClient.
        .target(
            name: "ScopeGateBundleSource",
            dependencies: [
                "ScopeGate", "ScopeGateTokens", "ScopeGateBundles", "ScopeGateOperations", "ScopeGateAsyncHTTPClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // `scopegate proxy`: an authorizing reverse proxy in front of any Streamable HTTP MCP server.
        .target(
            name: "ScopeGateProxy",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                "ScopeGateRequestAuthorization",
                // The connection's request decoder (`HTTP1RequestDecoder`).
                "ScopeGateHTTP1",
                // The stdio upstream reads its child's output with the client's line splitter.
                "ScopeGateMCPClient",
                "ScopeGateOperations",
                // JWKS, introspection and token exchange on AsyncHTTPClient: the proxy loads no FoundationNetworking.
                "ScopeGateAsyncHTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                // The proxy's connection handler sits in Hummingbird's HTTP/1.1 pipeline (`ProxyServer`).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                // The connection handler reads SwiftNIO's request parts and converts its own answers' heads.
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The gateways' strict HTTP/1.1 request reading: the head reader the decision service reads its
        // connections with, and the SwiftNIO request decoder the proxy's pipeline is built on.
        .target(
            name: "ScopeGateHTTP1",
            dependencies: [
                "ScopeGateRequestAuthorization",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // `scopegate authz`: the decision service behind nginx `auth_request`, Caddy `forward_auth` and Envoy
        // `ext_authz`, on the same request authorization as the proxy.
        .target(
            name: "ScopeGateAuthz",
            dependencies: [
                "ScopeGate", "ScopeGateTokens", "ScopeGateRequestAuthorization", "ScopeGateOperations",
                "ScopeGateHTTP1",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What both executables share: exit codes, output, `--policy`, the gateway's options and its launcher.
        // Nothing here pulls in an HTTP stack.
        .target(
            name: "ScopeGateCommandLine",
            dependencies: [
                "ScopeGate", "ScopeGateRequestAuthorization", "ScopeGateMCPClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `scopegate`: every offline command. `scopegate proxy` parses its options here and then becomes
        // `scopegate-gateway`, so a first `swift run scopegate lint` builds no HTTP server or client.
        .executableTarget(
            name: "scopegate",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                "ScopeGateMCPClient",
                "ScopeGateMCPClientHTTP",
                "ScopeGateURLSession",
                "ScopeGateOnboarding",
                "ScopeGateDoctor",
                "ScopeGateRequestAuthorization",
                "ScopeGateCommandLine",
                "ScopeGateBundles",
                "ScopeGateClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `scopegate-gateway`: runs `proxy` with Hummingbird and AsyncHTTPClient.
        .executableTarget(
            name: "scopegate-gateway",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                "ScopeGateRequestAuthorization",
                "ScopeGateCommandLine",
                "ScopeGateProxy",
                "ScopeGateOperations",
                "ScopeGateAuthz",
                "ScopeGateBundles",
                "ScopeGateBundleSource",
                "ScopeGateAsyncHTTPClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                // The event loops run Swift's tasks too (see `GatewayCommand.swift`).
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // MCP integration: HTTP authorization in front of the SDK's transports, per-tool checks, PRM, audit, metrics, reload.
        .target(
            name: "ScopeGateMCP",
            dependencies: [
                "ScopeGate",
                "ScopeGateTokens",
                "ScopeGateRequestAuthorization",
                "ScopeGateOperations",
                // The configuration's default fetcher.
                "ScopeGateURLSession",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // A small MCP client without the SDK: stdio child processes, tools/list, saved tool lists. Used by
        // `init` and `drift`; JSON comes from the core's parser. The gateway links it (stdio upstreams, `ShellWords`).
        .target(name: "ScopeGateMCPClient", dependencies: ["ScopeGate"]),
        // The client's Streamable HTTP transport, over URLSession: apart, so the gateway loads no FoundationNetworking.
        .target(name: "ScopeGateMCPClientHTTP", dependencies: ["ScopeGate", "ScopeGateMCPClient"]),
        // The client half: discovery, the least scope set for named tools from the requirements a ScopeGate front
        // publishes (the core's solver), client credentials and authorization code + PKCE, tokens encrypted at rest,
        // step-up. Knows no server internals; HTTP through an injected `HTTPFetcher` (the CLI gives URLSession's), so
        // `scopegate` builds no HTTP stack for `scopegate token`.
        .target(
            name: "ScopeGateClient",
            dependencies: [
                "ScopeGate", "ScopeGateTokens", "ScopeGateMCPClient", "ScopeGateMCPClientHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "ScopeGateClientTests",
            dependencies: [
                "ScopeGateClient", "ScopeGate", "ScopeGateTokens", "ScopeGateRequestAuthorization",
                "ScopeGateURLSession",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Onboarding: drafting a policy from a server's tools (`init`) and checking drift (`drift`).
        .target(name: "ScopeGateOnboarding", dependencies: ["ScopeGate", "ScopeGateMCPClient"]),
        // `scopegate doctor`: the deployment checklist, pure checks over documents fetched with URLSession.
        .target(
            name: "ScopeGateDoctor", dependencies: ["ScopeGate", "ScopeGateTokens", "ScopeGateRequestAuthorization"]),
        .testTarget(name: "ScopeGateDoctorTests", dependencies: ["ScopeGateDoctor", "ScopeGate", "ScopeGateTokens"]),
        .testTarget(
            name: "ScopeGateOnboardingTests",
            dependencies: ["ScopeGateOnboarding", "ScopeGateMCPClient", "ScopeGateMCPClientHTTP", "ScopeGate"]),
        // The example MCP server protected by policies/climate.yaml (see examples/climate-server/README.md).
        .executableTarget(
            name: "climate-server",
            dependencies: [
                "ScopeGateMCP",
                // The CRM client's default fetcher.
                "ScopeGateURLSession",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                // Serves the CRM API that `update_client` calls with an exchanged token.
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "examples/climate-server/Sources"
        ),
        // Shared by the library and CLI test targets: the decision corpus reader (Tests/Corpus).
        .target(name: "ScopeGateTestSupport", dependencies: ["ScopeGate"], path: "Tests/Support"),
        .testTarget(
            name: "ScopeGateTests", dependencies: ["ScopeGate", "ScopeGateTesting", "ScopeGateTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ScopeGateTokensTests",
            dependencies: [
                "ScopeGateTokens",
                "ScopeGate",
                "ScopeGateTesting",
                // The URLSession-backed initializers, and the fetcher of the live IdP tests.
                "ScopeGateURLSession",
                // Tests generate keys and sign tokens with swift-crypto directly (an oracle independent of jwt-kit).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            exclude: ["Fixtures"]  // read by path (#filePath), not as bundle resources
        ),
        .testTarget(
            name: "ScopeGateBundlesTests",
            dependencies: [
                "ScopeGateBundles", "ScopeGate", "ScopeGateTesting",
                // Tests generate signing keys with swift-crypto.
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "ScopeGateRequestAuthorizationTests",
            dependencies: ["ScopeGateRequestAuthorization", "ScopeGate", "ScopeGateTokens", "ScopeGateTesting"]),
        .testTarget(
            name: "ScopeGateOperationsTests",
            dependencies: ["ScopeGateOperations", "ScopeGateRequestAuthorization", "ScopeGate", "ScopeGateTokens"]),
        .testTarget(
            name: "ScopeGateBundleSourceTests",
            dependencies: [
                "ScopeGateBundleSource", "ScopeGateBundles", "ScopeGateOperations", "ScopeGate", "ScopeGateTokens",
                "ScopeGateTesting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "ScopeGateProxyTests",
            dependencies: [
                "ScopeGateHTTPTestSupport", "ScopeGateTesting",
                "ScopeGateProxy", "ScopeGateRequestAuthorization", "ScopeGate", "ScopeGateTokens",
                "ScopeGateOperations", "ScopeGateAsyncHTTPClient",
                // Both fetchers' redirect tests run against one server.
                "ScopeGateURLSession",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Shared by the proxy's and the decision service's tests: a responder served on a loopback port.
        .target(
            name: "ScopeGateHTTPTestSupport",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
            ],
            path: "Tests/HTTPSupport"),
        .testTarget(
            name: "ScopeGateHTTP1Tests",
            dependencies: [
                "ScopeGateHTTP1",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .testTarget(
            name: "ScopeGateAuthzTests",
            dependencies: [
                "ScopeGateHTTPTestSupport", "ScopeGateTesting",
                "ScopeGateAuthz", "ScopeGateProxy", "ScopeGateRequestAuthorization", "ScopeGate", "ScopeGateTokens",
                "ScopeGateOperations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        .testTarget(
            name: "ScopeGateCLITests",
            dependencies: [
                "ScopeGate", "scopegate", "scopegate-gateway", "ScopeGateTestSupport", "ScopeGateTesting",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(
            name: "ScopeGateMCPTests",
            dependencies: [
                "ScopeGateMCP",
                "ScopeGate",
                "ScopeGateTokens",
                "climate-server",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ]
        ),
    ]
)
