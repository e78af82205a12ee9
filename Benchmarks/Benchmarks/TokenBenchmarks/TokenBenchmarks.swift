// Token verification benchmarks: the VerifiedTokenCache hit path, uncached RS256/ES256/EdDSA verification through
// `TokenVerifier.verify` with static keys, and jwt-kit's raw signature verify on the same keys and tokens
// (the floor our full verification is compared with). Targets and results: docs/performance.md.
//
//   cd Benchmarks && swift package --disable-sandbox benchmark --target TokenBenchmarks
import Benchmark
import Crypto
import Foundation
import JWTKit
import ScopeGate
import ScopeGateTokens
import ScopeGateURLSession
import _CryptoExtras

enum TokenFixture {
    static let issuer = "https://auth.example.com"
    static let resource = "https://mcp.example.com/mcp"

    static func b64url(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { fatalError("fixture JSON") }
        return String(decoding: data, as: UTF8.self)
    }

    /// A signed token and everything needed to verify it.
    struct Case: Sendable {
        let token: String
        let verifier: TokenVerifier
        /// Bytes the signature covers, and the decoded signature (for the raw comparison).
        let signingInput: [UInt8]
        let signature: [UInt8]
    }

    struct All: Sendable {
        let rs256: Case
        let es256: Case
        let eddsa: Case
        /// jwt-kit's own verifiers for the same public keys (RS256, ES256, EdDSA).
        let jwtKitRS256: any JWTAlgorithm
        let jwtKitES256: any JWTAlgorithm
        let jwtKitEdDSA: any JWTAlgorithm
    }

    static func claims() -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return [
            "iss": issuer, "aud": resource, "sub": "user-1", "client_id": "client-1", "iat": now - 10,
            "nbf": now - 10, "exp": now + 86_400, "jti": "jti-1", "scope": "mcp:tools:climate read:files",
        ]
    }

    static func makeCase(alg: String, jwk: [String: Any], sign: ([UInt8]) throws -> [UInt8]) async throws -> Case {
        let header = json(["alg": alg, "typ": "at+jwt", "kid": "k1"])
        let input = b64url(Array(header.utf8)) + "." + b64url(Array(json(claims()).utf8))
        let signature = try sign(Array(input.utf8))
        let token = input + "." + b64url(signature)
        var key = jwk
        key["kid"] = "k1"
        key["use"] = "sig"
        key["alg"] = alg
        let set = try await JWKSet.parse(Array(json(["keys": [key]]).utf8))
        let config = TokensConfig(issuers: [
            TokensConfig.Issuer(
                issuer: issuer, algorithms: [alg], audiences: [resource],
                location: SourceLocation(file: "bench.yaml", line: 1, column: 1))
        ])
        let verifier = TokenVerifier(config: config, resource: resource, staticKeys: [issuer: set], environment: [:])
        return Case(token: token, verifier: verifier, signingInput: Array(input.utf8), signature: signature)
    }

    static func build() async throws -> All {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let primitives = try rsa.publicKey.getKeyPrimitives()
        let n = b64url(primitives.modulus)
        let e = b64url(primitives.publicExponent)
        let rs256 = try await makeCase(alg: "RS256", jwk: ["kty": "RSA", "n": n, "e": e]) { input in
            Array(try rsa.signature(for: SHA256.hash(data: input), padding: .insecurePKCS1v1_5).rawRepresentation)
        }

        let p256 = P256.Signing.PrivateKey()
        let raw = Array(p256.publicKey.x963Representation.dropFirst())
        let es256 = try await makeCase(
            alg: "ES256",
            jwk: [
                "kty": "EC", "crv": "P-256", "x": b64url(raw[0..<32]),
                "y": b64url(raw[32...]),
            ]
        ) { input in
            Array(try p256.signature(for: input).rawRepresentation)
        }

        let ed = Curve25519.Signing.PrivateKey()
        let eddsa = try await makeCase(
            alg: "EdDSA",
            jwk: [
                "kty": "OKP", "crv": "Ed25519",
                "x": b64url(ed.publicKey.rawRepresentation),
            ]
        ) { input in
            Array(try ed.signature(for: input))
        }

        let collection = JWTKeyCollection()
        let kid = JWKIdentifier(string: "k1")
        await collection.add(
            rsa: try Insecure.RSA.PublicKey(modulus: n, exponent: e), digestAlgorithm: .sha256, kid: kid)
        let jwtKit = try await collection.getKey(for: kid)
        let ecCollection = JWTKeyCollection()
        await ecCollection.add(
            ecdsa: try ES256PublicKey(parameters: (b64url(raw[0..<32]), b64url(raw[32...]))), kid: kid)
        let jwtKitES = try await ecCollection.getKey(for: kid)
        let edCollection = JWTKeyCollection()
        await edCollection.add(
            eddsa: try EdDSA.PublicKey(x: b64url(ed.publicKey.rawRepresentation), curve: .ed25519), kid: kid)
        let jwtKitEd = try await edCollection.getKey(for: kid)
        return All(
            rs256: rs256, es256: es256, eddsa: eddsa, jwtKitRS256: jwtKit, jwtKitES256: jwtKitES,
            jwtKitEdDSA: jwtKitEd)
    }

    /// Built once per process, outside every measurement.
    static let shared = Task { () -> All in
        do { return try await build() } catch { fatalError("token fixture setup failed: \(error)") }
    }
}

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal]

    // MARK: cache hit (target ≤ 1 µs median)

    Benchmark(
        "Cached verify (VerifiedTokenCache hit)",
        configuration: .init(
            metrics: metrics, timeUnits: .nanoseconds, scalingFactor: .kilo,
            maxDuration: .seconds(3))
    ) { benchmark async in
        let all = await TokenFixture.shared.value
        let token = all.rs256.token
        let cache = VerifiedTokenCache<Int>()
        do {
            let verified = try await all.rs256.verifier.verify(token)
            cache.insert(token, verified: verified, extra: 1)
        } catch {
            benchmark.error("setup verify failed: \(error)")
            return
        }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(cache.value(for: token))
        }
        benchmark.stopMeasurement()
        if cache.value(for: token) == nil { benchmark.error("expected a cache hit") }
    }

    // MARK: uncached verification through TokenVerifier.verify (static keys)

    for (name, pick) in [
        ("RS256", \TokenFixture.All.rs256), ("ES256", \TokenFixture.All.es256),
        ("EdDSA", \TokenFixture.All.eddsa),
    ] {
        Benchmark(
            "Uncached verify \(name)",
            configuration: .init(metrics: metrics, timeUnits: .nanoseconds, maxDuration: .seconds(4))
        ) { benchmark async in
            let all = await TokenFixture.shared.value
            let c = all[keyPath: pick]
            var failures = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                do {
                    blackHole(try await c.verifier.verify(c.token))
                } catch {
                    failures += 1
                }
            }
            benchmark.stopMeasurement()
            if failures > 0 { benchmark.error("\(failures) verifications failed") }
        }
    }

    // The same, with the loop running on the global concurrent executor, as a server's request task does: the
    // benchmark's own closure is not there, so each `await verify` above may also pay an executor hop there and
    // back (measured at ~35 µs per call on this machine). 1,000 verifications per sample, one hop per sample.
    for (name, pick) in [
        ("RS256", \TokenFixture.All.rs256), ("ES256", \TokenFixture.All.es256),
        ("EdDSA", \TokenFixture.All.eddsa),
    ] {
        Benchmark(
            "Uncached verify \(name), in a task",
            configuration: .init(
                metrics: metrics, timeUnits: .nanoseconds, scalingFactor: .kilo,
                maxDuration: .seconds(8))
        ) { benchmark async in
            let all = await TokenFixture.shared.value
            let c = all[keyPath: pick]
            let iterations = benchmark.scaledIterations
            benchmark.startMeasurement()
            let failures = await Task.detached {
                var failures = 0
                for _ in iterations {
                    do {
                        blackHole(try await c.verifier.verify(c.token))
                    } catch {
                        failures += 1
                    }
                }
                return failures
            }.value
            benchmark.stopMeasurement()
            if failures > 0 { benchmark.error("\(failures) verifications failed") }
        }
    }

    // MARK: jwt-kit's raw signature verify on the same keys and tokens (the comparison floor)

    // Once per sample, and amortized the same way as the "in a task" rows (1,000 per sample, in one detached
    // task), so that both sides of the ratio pay the benchmark harness's per-sample cost once per 1,000
    // operations and run on the same executor: the only difference left is what is inside the loop.
    let rawVariants: [(suffix: String, scaling: BenchmarkScalingFactor, seconds: Int, inTask: Bool)] =
        [("", .one, 4, false), (", 1,000 per sample", .kilo, 8, true)]
    for variant in rawVariants {
        for (name, pick, algorithm) in [
            ("RS256", \TokenFixture.All.rs256, \TokenFixture.All.jwtKitRS256),
            ("ES256", \TokenFixture.All.es256, \TokenFixture.All.jwtKitES256),
            ("EdDSA", \TokenFixture.All.eddsa, \TokenFixture.All.jwtKitEdDSA),
        ] {
            Benchmark(
                "jwt-kit raw verify \(name)\(variant.suffix)",
                configuration: .init(
                    metrics: metrics, timeUnits: .nanoseconds, scalingFactor: variant.scaling,
                    maxDuration: .seconds(variant.seconds))
            ) { benchmark async in
                let all = await TokenFixture.shared.value
                let algorithm = all[keyPath: algorithm]
                let signature = all[keyPath: pick].signature
                let input = all[keyPath: pick].signingInput
                let iterations = benchmark.scaledIterations
                @Sendable func loop() -> Int {
                    var failures = 0
                    for _ in iterations {
                        if (try? algorithm.verify(signature, signs: input)) != true { failures += 1 }
                    }
                    return failures
                }
                benchmark.startMeasurement()
                let failures = variant.inTask ? await Task.detached { loop() }.value : loop()
                benchmark.stopMeasurement()
                if failures > 0 { benchmark.error("\(failures) raw verifications failed") }
            }
        }
    }
}
