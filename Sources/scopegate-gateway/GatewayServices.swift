import Foundation
import Logging
import NIOCore
import ScopeGate
import ScopeGateAsyncHTTPClient
import ScopeGateBundleSource
import ScopeGateBundles
import ScopeGateCommandLine
import ScopeGateOperations
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens
import ServiceLifecycle

/// What `proxy` and `authz` both build from their ``GatewayOptions`` before serving: the compiled policy in a
/// store, token verification (with `--jwks` keys when given), the metrics with their Prometheus registry, the
/// audit log, and what keeps the policy current: the reloader of a `--policy` file (file changes and `SIGHUP`),
/// or the poller of a `--bundle` URL (`SIGHUP` polls at once). `SIGHUP` also reopens the audit file.
struct GatewayServices {
    /// What keeps the policy in force current.
    enum PolicySource {
        case file(PolicyReloader)
        case bundle(BundlePolicySource)
    }

    let store: PolicyStore
    let settings: AuthorizationSettings
    let metrics: ScopeGateMetrics
    let prometheus: PrometheusMetrics
    let audit: AuditLog?
    let tokens: TokenAuthenticator
    /// HTTP to the identity providers (JWKS, discovery, introspection, token exchange), counted in
    /// `scopegate_idp_requests_total`.
    let identityProviderFetcher: any HTTPFetcher
    let source: PolicySource
    /// `--metrics-listen`: the operations endpoints' own address (nil: they are on the main listener).
    let metricsAddress: ListenAddress?

    var policy: CompiledPolicy { store.current.policy }
    var reporter: DecisionReporter { DecisionReporter(audit: audit, metrics: metrics) }
    /// What the main listener's `/metrics` exposes: nothing when `--metrics-listen` serves it apart.
    var mainListenerMetrics: PrometheusMetrics? { metricsAddress == nil ? prometheus : nil }

    /// The `--metrics-listen` listener (`/metrics`, `/healthz`, `/readyz` with the service's `readiness`), to run
    /// beside the main one; nil without the option.
    private func metricsListener(readiness: Readiness) -> (any Service)? {
        metricsAddress.map {
            MetricsListener.service($0, endpoints: OperationsEndpoints(readiness: readiness, prometheus: prometheus))
        }
    }

    /// The start-up line's note of the metrics listener, e.g. `; metrics on http://127.0.0.1:9090/metrics`.
    var metricsNote: String {
        metricsAddress.map { "; metrics on http://\($0.host):\($0.port)/metrics" } ?? ""
    }

    /// Loads the policy and opens everything; a policy with errors, no bundle from the server nor the cache, an
    /// unusable key, JWKS file or audit path is a clear error (exit 2).
    init(_ options: GatewayOptions) async throws {
        prometheus = PrometheusMetrics.bootstrap()
        metricsAddress = options.metricsListen.flatMap(ListenAddress.init)
        // The egress proxy of the identity-provider requests and the bundle downloads, read from the environment once.
        let egress = EnvironmentProxy()
        let metrics = ScopeGateMetrics()
        self.metrics = metrics
        let bundleSource: BundlePolicySource?
        if let url = options.bundleURL {
            let source = try await Self.startBundle(url, options: options, proxy: egress, metrics: metrics)
            store = source.store
            bundleSource = source
        } else if let file = options.policyOptions {
            store = PolicyStore(initial: try file.load())
            bundleSource = nil
        } else {
            throw Output.fail("give --policy FILE or --bundle URL")
        }
        settings = options.authorizationSettings
        var jwksKeys: JWKSet?
        if let jwks = options.jwks {
            do {
                jwksKeys = try await JWKSet.load(contentsOfFile: jwks)
            } catch {
                throw Output.fail("cannot use the JWKS file `\(jwks)`: \(error.message)")
            }
        }
        do throws(AuditLogError) {
            audit = try options.audit.map { destination throws(AuditLogError) in
                try AuditLog.open(destination, metrics: metrics)
            }
        } catch {
            throw Output.fail(error.message)
        }
        let fetcher = MeteredFetcher(
            base: AsyncHTTPClientFetcher(timeout: .seconds(5), proxy: egress), metrics: metrics)
        identityProviderFetcher = fetcher
        tokens = TokenAuthenticator(
            store: store, resource: options.resource, keysForEveryIssuer: jwksKeys, fetcher: fetcher, metrics: metrics)
        let audit = self.audit
        if let bundleSource {
            source = .bundle(bundleSource)
        } else {
            source = .file(
                PolicyReloader(
                    store: store, path: options.policy ?? "", metrics: metrics, onSIGHUP: { audit?.reopen() }))
        }
    }

    /// Reads `--bundle-key` and starts the bundle source; no policy from the server nor the cache is a clear
    /// error: the service does not start (fail closed).
    static func startBundle(
        _ url: URL, options: GatewayOptions, proxy: EnvironmentProxy, metrics: ScopeGateMetrics
    ) async throws
        -> BundlePolicySource
    {
        var key: BundleVerificationKey?
        if let path = options.bundleKey {
            do throws(BundleError) {
                key = try BundleVerificationKey(contentsOfFile: path)
            } catch {
                throw Output.fail("cannot use the bundle key `\(path)`: \(error.message)", help: error.help)
            }
        } else {
            Output.stderr(
                "scopegate: warning: no --bundle-key: bundles from `\(url.absoluteString)` are not verified\n")
        }
        let configuration = BundleSourceConfiguration(
            url: url, key: key, interval: .seconds(options.bundlePoll), cacheDirectory: options.bundleCache)
        do throws(BundleSourceError) {
            return try await BundlePolicySource.start(
                configuration, fetcher: AsyncHTTPClientFetcher(proxy: proxy), metrics: metrics)
        } catch {
            throw Output.fail(
                "refusing to start: \(error.message)",
                help:
                    "check that `\(url.absoluteString)` serves a bundle signed with the --bundle-key's key, or give a --bundle-cache that holds one"
            )
        }
    }

    /// How the start-up line says the mode, e.g. ` (shadow mode: denials are logged, not enforced)`.
    var modeNote: String {
        switch settings.mode ?? policy.model.mode {
        case .shadow: " (shadow mode: denials are logged, not enforced)"
        case .enforce: ""
        case nil: policy.model.hasShadowMode ? " (some tools in shadow mode)" : ""
        }
    }

    /// Runs `server` (and the `--metrics-listen` listener beside it, when given) with reload polling (and `SIGHUP`)
    /// on, until SIGTERM or SIGINT: the servers stop accepting and finish in-flight requests and streams; then
    /// `stop` runs and the audit log writes what it holds.
    func serve(_ server: any Service, readiness: Readiness, stop: () async -> Void = {}) async throws {
        let polling: Task<Void, Never>
        var hangup: HangupSignal?
        switch source {
        case .file(let reloader):
            reloader.reloadOnSIGHUP()
            polling = Task { await reloader.run() }
        case .bundle(let bundle):
            let audit = self.audit
            hangup = HangupSignal {
                audit?.reopen()
                Task { await bundle.poll() }
            }
            polling = Task { await bundle.run() }
        }
        defer { hangup?.cancel() }
        let group = ServiceGroup(
            configuration: .init(
                services: [server] + [metricsListener(readiness: readiness)].compactMap { $0 },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "scopegate")))
        let outcome: Result<Void, any Error>
        do {
            try await group.run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        polling.cancel()
        await stop()
        await audit?.close()
        // A listener that cannot bind (the address in use, not an address of this host) cannot start: exit 2.
        if case .failure(let failure as IOError) = outcome {
            throw Output.fail(
                "cannot listen: \(String(cString: strerror(failure.errnoCode))) (errno \(failure.errnoCode))",
                help: "is another process listening on that address? choose another with --listen")
        }
        try outcome.get()
    }
}
