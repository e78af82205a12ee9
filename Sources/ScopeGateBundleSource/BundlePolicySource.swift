import Foundation
import Logging
import ScopeGate
import ScopeGateAsyncHTTPClient
import ScopeGateBundles
import ScopeGateOperations
import ScopeGateTokens

/// A policy that comes from a signed bundle at a URL, kept current by polling: the bundle-URL policy source of
/// `scopegate proxy --bundle` and `scopegate authz --bundle`, usable by any ``PolicyStore`` user.
///
/// - Start (``start(_:fetcher:clock:compiler:metrics:logger:)``): the bundle is downloaded, verified with the
///   configured key, its files written out and compiled; when that fails, the last good bundle saved in the
///   cache directory is verified and compiled instead; with neither, start throws
///   ``BundleSourceError/Code/noPolicy`` and a service must not start (fail closed).
/// - Polling (``run()``): `GET` with `If-None-Match` (a 304 keeps the bundle in force), then verify, compile and
///   swap through ``PolicyStore/reload(path:)``: decisions see the old policy or the new one, never a mix. Any
///   failure keeps the last good policy. The delay follows ``BundlePollSchedule`` (interval ±10%, `max-age`
///   within bounds, exponential backoff while the server cannot be fetched from; a refused bundle is retried at
///   the interval).
/// - Each policy put in force is saved to the cache (``BundleCache``: temporary file and rename).
/// - Metrics (``ScopeGateMetrics``): fetches by result, the revision in force, the last activation time,
///   failures by cause; swaps and refused policies also count in `scopegate_policy_reloads_total` and are logged
///   as ``PolicyReloader`` logs file reloads.
///
/// The clock and the fetcher are injected: tests drive ``poll()`` with a fake server and read the delays.
///
/// ```swift
/// let configuration = BundleSourceConfiguration(url: bundleURL, key: key, cacheDirectory: "/var/cache/scopegate")
/// let source = try await BundlePolicySource.start(configuration)
/// let store = source.store                               // decide with store.current, as with a file
/// let polling = Task { await source.run() }              // cancel to stop
/// ```
public actor BundlePolicySource {
    /// The policy in force.
    public nonisolated let store: PolicyStore
    public nonisolated let configuration: BundleSourceConfiguration
    let fetcher: any HTTPFetcher
    let clock: any BundleSourceClock
    let metrics: ScopeGateMetrics
    let logger: Logger
    /// Where this source writes revisions out (``withExtracted(_:base:_:)``).
    let base: String

    /// The manifest of the bundle in force (its revision, file hashes and build time identify its content).
    private(set) var active: BundleManifest
    /// The `ETag` of the bundle in force, sent as `If-None-Match`; nil when it came from the cache.
    private(set) var etag: String?
    /// Consecutive polls that could not fetch (0 after any answer: a refused bundle does not back off, so the
    /// fix that follows it is taken at the next interval).
    private(set) var failures: Int
    /// The last successful answer's `Cache-Control: max-age`.
    private(set) var maxAge: Duration?
    private var polling = false

    init(
        store: PolicyStore, active: BundleManifest, etag: String?, failures: Int, maxAge: Duration?,
        configuration: BundleSourceConfiguration, fetcher: any HTTPFetcher, clock: any BundleSourceClock,
        metrics: ScopeGateMetrics, logger: Logger, base: String
    ) {
        self.base = base
        self.store = store
        self.active = active
        self.etag = etag
        self.failures = failures
        self.maxAge = maxAge
        self.configuration = configuration
        self.fetcher = fetcher
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// The revision in force.
    public var revision: String { active.revision }

    /// Obtains the first policy, from the server or else from the cache, and returns the source holding it.
    /// Throws ``BundleSourceError/Code/noPolicy`` (naming both failures) when neither gives a good policy.
    public static func start(
        _ configuration: BundleSourceConfiguration, fetcher: any HTTPFetcher = AsyncHTTPClientFetcher(),
        clock: any BundleSourceClock = SystemBundleSourceClock(), compiler: PolicyCompiler = PolicyCompiler(),
        metrics: ScopeGateMetrics = ScopeGateMetrics(), logger: Logger = Logger(label: "scopegate.bundle")
    ) async throws(BundleSourceError) -> BundlePolicySource {
        metrics.registerBundleSeries()
        let base = newExtractionBase()
        let url = configuration.url.absoluteString
        var downloaded: BundleSourceError
        switch await fetch(configuration, etag: nil, fetcher: fetcher, metrics: metrics) {
        case .bundle(let bytes, let etag, let maxAge):
            do throws(BundleSourceError) {
                let (bundle, policy) = try compile(bytes, configuration: configuration, base: base, compiler: compiler)
                let source = BundlePolicySource(
                    store: PolicyStore(initial: policy, compiler: compiler), active: bundle.manifest, etag: etag,
                    failures: 0, maxAge: maxAge, configuration: configuration, fetcher: fetcher, clock: clock,
                    metrics: metrics, logger: logger, base: base)
                await source.activated(bundle.manifest, previous: nil, from: "server")
                await source.persist(bytes)
                return source
            } catch {
                metrics.activationFailed(error.cause)
                downloaded = error
            }
        case .notModified:
            downloaded = BundleSourceError(.fetchFailed, "`\(url)` answered 304 to a request without `If-None-Match`")
            metrics.activationFailed(.fetch)
        case .failed(let error):
            metrics.activationFailed(.fetch)
            downloaded = error
        }
        logger.warning(
            "cannot start from the bundle server; trying the cache",
            metadata: ["url": "\(url)", "error": "\(downloaded.description)"])
        guard let cache = configuration.cache else {
            try? FileManager.default.removeItem(atPath: base)
            throw BundleSourceError(
                .noPolicy,
                "no policy to start with: \(downloaded.message); no --bundle-cache directory holds a last good bundle")
        }
        guard let bytes = cache.read(maxBytes: configuration.limits.maxArchiveBytes) else {
            try? FileManager.default.removeItem(atPath: base)
            throw BundleSourceError(
                .noPolicy, "no policy to start with: \(downloaded.message); the cache `\(cache.path)` holds no bundle")
        }
        do throws(BundleSourceError) {
            let (bundle, policy) = try compile(bytes, configuration: configuration, base: base, compiler: compiler)
            let source = BundlePolicySource(
                store: PolicyStore(initial: policy, compiler: compiler), active: bundle.manifest, etag: nil,
                failures: downloaded.cause == .fetch ? 1 : 0, maxAge: nil, configuration: configuration,
                fetcher: fetcher, clock: clock,
                metrics: metrics, logger: logger, base: base)
            await source.activated(bundle.manifest, previous: nil, from: "cache")
            return source
        } catch {
            metrics.activationFailed(error.cause)
            try? FileManager.default.removeItem(atPath: base)
            throw BundleSourceError(
                .noPolicy,
                "no policy to start with: \(downloaded.message); the cached bundle `\(cache.path)` is refused: \(error.message)"
            )
        }
    }

    /// Polls once: fetches (with `If-None-Match`), and puts a new bundle in force when it verifies and compiles.
    /// Returns the delay before the next poll. A poll already running (a `SIGHUP` during a timed one) is not
    /// doubled: the call returns at once.
    @discardableResult
    public func poll() async -> Duration {
        guard !polling else { return nextDelay() }
        polling = true
        defer { polling = false }
        switch await Self.fetch(configuration, etag: etag, fetcher: fetcher, metrics: metrics) {
        case .notModified(let maxAge):
            succeeded(maxAge: maxAge)
        case .failed(let error):
            failed(error)
        case .bundle(let bytes, let etag, let maxAge):
            do throws(BundleSourceError) {
                try await activate(bytes)
                self.etag = etag
                succeeded(maxAge: maxAge)
            } catch {
                failed(error)
                self.maxAge = nil
            }
        }
        return nextDelay()
    }

    /// Polls until the task is cancelled, waiting on the injected clock between polls.
    public func run() async {
        var delay = nextDelay()
        while !Task.isCancelled {
            do { try await clock.sleep(for: delay) } catch { return }
            delay = await poll()
        }
    }

    /// The delay before the next poll, with a fresh jitter draw.
    func nextDelay() -> Duration {
        configuration.schedule.delay(failures: failures, maxAge: maxAge, draw: clock.draw())
    }

    private func succeeded(maxAge: Duration?) {
        failures = 0
        self.maxAge = maxAge
    }

    /// Counts and logs a failed poll; the policy in force stays. Only a failed fetch backs off: the server is
    /// down or failing. A bundle that is refused was served fine; it is downloaded and refused again at each
    /// interval (its failure count keeps rising while it is published) until a good one replaces it.
    private func failed(_ error: BundleSourceError) {
        failures = error.cause == .fetch ? failures + 1 : 0
        metrics.activationFailed(error.cause)
        logger.error(
            "policy bundle not put in force; the previous policy stays in force",
            metadata: [
                "url": "\(configuration.url.absoluteString)", "revision": "\(active.revision)",
                "cause": "\(error.cause.rawValue)", "error": "\(error.description)",
                "consecutive_failures": "\(failures)",
            ])
    }

    /// Verifies, compiles and swaps `bytes` in; the same bundle as the one in force is not swapped again. The
    /// extraction and the compile run on a Dispatch thread (``BlockingWork``), never on the actor's.
    private func activate(_ bytes: [UInt8]) async throws(BundleSourceError) {
        let bundle = try Self.open(bytes, configuration: configuration)
        if bundle.manifest == active { return }
        let (store, base) = (self.store, self.base)
        let extracted = await BlockingWork.run { () -> Result<ReloadOutcome, BundleSourceError> in
            do throws(BundleSourceError) {
                return .success(
                    try Self.withExtracted(bundle, base: base) { root in
                        let outcome = store.reload(path: root)
                        if case .swapped = outcome { return (outcome, true) }
                        return (outcome, false)
                    })
            } catch {
                return .failure(error)
            }
        }
        let outcome = try extracted.get()
        switch outcome {
        case .swapped(_, let warnings):
            metrics.reloaded(swapped: true)
            let previous = active
            active = bundle.manifest
            activated(bundle.manifest, previous: previous, from: "server", warnings: warnings.count)
            persist(bytes)
        case .rejected(let diagnostics, _):
            metrics.reloaded(swapped: false)
            for diagnostic in diagnostics { logger.error("\(diagnostic.description)") }
            throw BundleSourceError(
                .compileFailed,
                "revision `\(bundle.revision)` has \(diagnostics.count(.error)) policy error(s); see the log")
        }
    }

    private func activated(_ manifest: BundleManifest, previous: BundleManifest?, from: String, warnings: Int = 0) {
        metrics.policyActivated(
            revision: Self.label(manifest.revision), previous: previous.map { Self.label($0.revision) },
            time: clock.now())
        logger.notice(
            "policy bundle in force",
            metadata: [
                "reason": "bundle", "from": "\(from)", "revision": "\(manifest.revision)",
                "policy_version": "\(store.current.version)", "warnings": "\(warnings)",
            ])
    }

    /// Saves `bytes` as the last good bundle; a failure is counted (`persist`) and logged, the policy stays.
    private func persist(_ bytes: [UInt8]) {
        guard let cache = configuration.cache else { return }
        do throws(BundleSourceError) {
            try cache.write(bytes)
        } catch {
            metrics.activationFailed(.persist)
            logger.error("cannot save the bundle in force to the cache", metadata: ["error": "\(error.description)"])
        }
    }

    /// A revision as a label value: at most 64 characters (the manifest's author chooses it, not a client).
    static func label(_ revision: String) -> String { String(revision.prefix(64)) }
}
