import Foundation
import Hummingbird
import ScopeGate
import ScopeGateCommandLine
import ScopeGateOperations
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// What `proxy` and `authz` both build from their ``GatewayOptions`` before serving: the compiled policy in a
/// store, token verification (with `--jwks` keys when given), the metrics with their Prometheus registry, the
/// audit log, and the reloader (file changes and `SIGHUP`, which also reopens the audit file).
struct GatewayServices {
    let store: PolicyStore
    let settings: AuthorizationSettings
    let metrics: ScopeGateMetrics
    let prometheus: PrometheusMetrics
    let audit: AuditLog?
    let tokens: TokenAuthenticator
    let reloader: PolicyReloader

    var policy: CompiledPolicy { store.current.policy }
    var reporter: DecisionReporter { DecisionReporter(audit: audit, metrics: metrics) }

    /// Loads the policy and opens everything; a policy with errors, an unusable JWKS file or audit path is a
    /// clear error (exit 2).
    init(_ options: GatewayOptions) async throws {
        let policy = try options.policyOptions.load()
        store = PolicyStore(initial: policy)
        settings = options.authorizationSettings
        var staticKeys: [String: JWKSet] = [:]
        if let jwks = options.jwks {
            do {
                let keys = try await JWKSet.load(contentsOfFile: jwks)
                for issuer in policy.model.tokens?.issuers ?? [] { staticKeys[issuer.issuer] = keys }
            } catch {
                throw Output.fail("cannot use the JWKS file `\(jwks)`: \(error.message)")
            }
        }
        prometheus = PrometheusMetrics.bootstrap()
        let metrics = ScopeGateMetrics()
        self.metrics = metrics
        do throws(AuditLogError) {
            audit = try options.audit.map { destination throws(AuditLogError) in
                try AuditLog.open(destination, metrics: metrics)
            }
        } catch {
            throw Output.fail(error.message)
        }
        tokens = TokenAuthenticator(store: store, resource: options.resource, staticKeys: staticKeys, metrics: metrics)
        let audit = self.audit
        reloader = PolicyReloader(
            store: store, path: options.policyOptions.policy, metrics: metrics, onSIGHUP: { audit?.reopen() })
    }

    /// How the start-up line says the mode, e.g. ` (shadow mode: denials are logged, not enforced)`.
    var modeNote: String {
        switch settings.mode ?? policy.model.mode {
        case .shadow: " (shadow mode: denials are logged, not enforced)"
        case .enforce: ""
        case nil: policy.model.hasShadowMode ? " (some tools in shadow mode)" : ""
        }
    }

    /// Serves `app` with reload polling (and `SIGHUP`) on, until SIGTERM or SIGINT: the server stops accepting
    /// and finishes in-flight requests and streams; then `stop` runs and the audit log writes what it holds.
    func serve(_ app: some ApplicationProtocol, stop: () async -> Void = {}) async throws {
        reloader.reloadOnSIGHUP()
        let polling = Task { await reloader.run() }
        do {
            try await app.runService()
        } catch {
            polling.cancel()
            await stop()
            await audit?.close()
            throw error
        }
        polling.cancel()
        await stop()
        await audit?.close()
    }
}
