import Foundation
import ScopeGate
import ScopeGateBundleSource
import ScopeGateBundles
import ScopeGateOperations
import Testing

/// The bundle source against an in-memory server and a clock that never waits: every delay is read, none slept.
@Suite struct BundlePolicySourceTests {
    let server = FakeBundleServer()
    let prometheus = PrometheusMetrics()
    let url = URL(string: "http://127.0.0.1:1/policy.bundle")!

    func configuration(cache: String? = nil, key: BundleVerificationKey? = Bundles.verification)
        -> BundleSourceConfiguration
    {
        BundleSourceConfiguration(url: url, key: key, interval: .seconds(10), cacheDirectory: cache)
    }

    func start(cache: String? = nil, clock: FakeClock = FakeClock()) async throws(BundleSourceError)
        -> BundlePolicySource
    {
        try await BundlePolicySource.start(
            configuration(cache: cache), fetcher: server, clock: clock, metrics: prometheus.metrics, logger: quietLogger
        )
    }

    func fetches(_ result: String) -> Double? {
        sample(prometheus.text, #"scopegate_bundle_fetches_total{result="\#(result)"}"#)
    }

    func failures(_ cause: String) -> Double? {
        sample(prometheus.text, #"scopegate_policy_activation_failures_total{cause="\#(cause)"}"#)
    }

    @Test func aCurrentBundleIsRevalidatedWithItsETagAnd304KeepsIt() async throws {
        server.publish(try Bundles.bundle(1))
        let source = try await start()
        let version = source.store.current.version
        #expect(await source.revision == "r1")

        let delay = await source.poll()
        #expect(server.requests.count == 2)
        #expect(server.requests[0].headers["If-None-Match"] == nil)
        #expect(server.requests[1].headers["If-None-Match"] == "\"1\"")
        #expect(source.store.current.version == version, "a 304 must not recompile")
        #expect(delay == .seconds(10))
        #expect(fetches("200") == 1)
        #expect(fetches("304") == 1)
        #expect(fetches("error") == 0)
    }

    @Test func aNewRevisionIsPutInForceWithItsMetrics() async throws {
        server.publish(try Bundles.bundle(1))
        let clock = FakeClock()
        let source = try await start(clock: clock)
        #expect(sample(prometheus.text, #"scopegate_policy_info{revision="r1"}"#) == 1)

        server.publish(try Bundles.bundle(2))
        await source.poll()
        #expect(await source.revision == "r2")
        #expect(Bundles.revision(of: source.store.current.policy) == 2)
        let text = prometheus.text
        #expect(sample(text, #"scopegate_policy_info{revision="r2"}"#) == 1)
        #expect(sample(text, #"scopegate_policy_info{revision="r1"}"#) == nil, "one info series at a time")
        #expect(sample(text, "scopegate_policy_last_activation_timestamp_seconds") == 1_800_000_000)
        #expect(sample(text, #"scopegate_policy_reloads_total{result="swapped"}"#) == 1)

        // The same bundle again (a new ETag, the same content) is not swapped in a second time.
        let version = source.store.current.version
        server.publish(try Bundles.bundle(2))
        await source.poll()
        #expect(source.store.current.version == version)
    }

    @Test func maxAgeFromTheServerStretchesTheNextPollWithinBounds() async throws {
        server.publish(try Bundles.bundle(1))
        server.set { $0.cacheControl = "max-age=45" }
        let source = try await start()
        #expect(await source.poll() == .seconds(45))
        server.set { $0.cacheControl = "max-age=100000" }
        #expect(await source.poll() == .seconds(100), "at most 10 intervals")
        server.set { $0.cacheControl = "max-age=1" }
        #expect(await source.poll() == .seconds(10), "never below the interval")
    }

    @Test func failuresBackOffExponentiallyAndASuccessResets() async throws {
        server.publish(try Bundles.bundle(1))
        let source = try await start()
        server.set { $0.down = true }
        var delays: [Duration] = []
        for _ in 0..<6 { delays.append(await source.poll()) }
        #expect(delays == [20, 40, 80, 160, 300, 300].map { Duration.seconds($0) })
        #expect(fetches("error") == 6)
        #expect(failures("fetch") == 6)
        #expect(await source.revision == "r1", "the last good policy stays")

        server.set { $0.down = false }
        #expect(await source.poll() == .seconds(10))
        // A 404 or a 500 is a failure too.
        server.set { $0.status = 503 }
        #expect(await source.poll() == .seconds(20))
        #expect(fetches("error") == 7)
    }

    @Test func runSleepsOnTheInjectedClockBetweenPolls() async throws {
        server.publish(try Bundles.bundle(1))
        let clock = FakeClock(limit: 4, draws: [0.5, 0, 1, 0.5])
        let source = try await start(clock: clock)
        server.publish(try Bundles.bundle(2))
        await source.run()  // ends when the clock refuses the fifth sleep
        #expect(clock.sleeps == [.seconds(10), .seconds(9), .seconds(11), .seconds(10)])
        #expect(server.requests.count == 5)
        #expect(await source.revision == "r2")
    }

    @Test func aTamperedOrWronglySignedBundleIsRefusedAndThePreviousKept() async throws {
        server.publish(try Bundles.bundle(1))
        let source = try await start()
        let version = source.store.current.version
        let cases: [(String, [UInt8])] = [
            ("tampered", Bundles.tampered(try Bundles.bundle(2))),
            ("wrong key", try Bundles.bundle(2, signer: Bundles.otherKey)),
            ("unsigned", try Bundles.bundle(2, signer: nil)),
            ("not a bundle", Array("<html>maintenance</html>".utf8)),
        ]
        for (n, (name, bytes)) in cases.enumerated() {
            server.publish(bytes)
            #expect(await source.poll() == .seconds(10), "a refused bundle is retried at the interval: \(name)")
            #expect(await source.revision == "r1", "\(name)")
            #expect(source.store.current.version == version, "\(name)")
            #expect(failures("verify") == Double(n + 1), "\(name)")
        }
        #expect(sample(prometheus.text, #"scopegate_policy_info{revision="r1"}"#) == 1)
        // The refused bundle's ETag is not remembered: the next poll downloads and refuses it again (the
        // failure counter keeps rising while it is published), and a good one is taken at once.
        server.publish(try Bundles.bundle(3))
        await source.poll()
        #expect(await source.revision == "r3")
    }

    @Test func theLastGoodBundleIsPersistedAndServesAStartWhileTheServerIsDown() async throws {
        let cache = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        server.publish(try Bundles.bundle(1))
        let first = try await start(cache: cache)
        server.publish(try Bundles.bundle(2))
        await first.poll()
        #expect(FileManager.default.contents(atPath: BundleCache(directory: cache).path) == Data(try Bundles.bundle(2)))
        // Only the bundle: the temporary file was renamed over it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache) == ["policy.bundle"])
        // The files of the revision in force stay where the rule locations name them; the previous one's are gone.
        let root = try #require(first.store.current.policy.model.files.first)
        #expect(root.hasSuffix("/policy-r2/policy.yaml") && FileManager.default.fileExists(atPath: root))
        let revisions = (root as NSString).deletingLastPathComponent.components(separatedBy: "/").dropLast().joined(
            separator: "/")
        #expect(try FileManager.default.contentsOfDirectory(atPath: revisions) == ["policy-r2"])

        server.set { $0.down = true }
        let restarted = try await start(cache: cache)
        #expect(await restarted.revision == "r2")
        #expect(Bundles.revision(of: restarted.store.current.policy) == 2)
        #expect(await restarted.poll() == .seconds(40), "started from the cache: the server already failed once")
        server.set { $0.down = false }
        await restarted.poll()
        #expect(restarted.store.current.version.hasSuffix("-1"), "the same bundle from the server: no swap")
    }

    @Test func aCacheThatCannotBeWrittenIsCountedAndThePolicyStillSwapped() async throws {
        let file = temporaryDirectory()
        try "not a directory".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        server.publish(try Bundles.bundle(1))
        let source = try await start(cache: file)
        #expect(failures("persist") == 1)
        server.publish(try Bundles.bundle(2))
        await source.poll()
        #expect(await source.revision == "r2")
        #expect(failures("persist") == 2)
    }

    @Test func withoutAnyPolicyTheSourceRefusesToStart() async throws {
        let empty = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        server.set { $0.down = true }
        for cache in [nil, empty] {
            await #expect(throws: BundleSourceError.self) { try await start(cache: cache) }
            do {
                _ = try await start(cache: cache)
            } catch {
                #expect(error.code == .noPolicy)
                #expect(error.message.hasPrefix("no policy to start with: cannot fetch `\(url.absoluteString)`"))
            }
        }
        // A refused download and a refused cache: still nothing to serve.
        server.set { $0.down = false }
        server.publish(try Bundles.bundle(1, signer: Bundles.otherKey))
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try BundleCache(directory: empty).write(Bundles.tampered(try Bundles.bundle(1)))
        do {
            _ = try await start(cache: empty)
            Issue.record("started without a good policy")
        } catch {
            #expect(error.code == .noPolicy)
            #expect(error.message.contains("is refused"))
        }
        #expect(failures("verify") == 2)
    }

    @Test func aRefusedDownloadAtStartFallsBackToTheCache() async throws {
        let cache = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: cache) }
        try BundleCache(directory: cache).write(try Bundles.bundle(4))
        server.publish(Bundles.tampered(try Bundles.bundle(5)))
        let source = try await start(cache: cache)
        #expect(await source.revision == "r4")
        #expect(failures("verify") == 1)
    }
}
