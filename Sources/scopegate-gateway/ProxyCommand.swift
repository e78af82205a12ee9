import ArgumentParser
import Foundation
import Hummingbird
import ScopeGate
import ScopeGateCommandLine
import ScopeGateOperations
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Runs `scopegate proxy` (options and help in ``ProxyOptions``).
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Serve an authorizing reverse proxy in front of an MCP server.")

    @OptionGroup var options: ProxyOptions

    func run() async throws {
        let policy = try options.policyOptions.load()
        let store = PolicyStore(initial: policy)
        var staticKeys: [String: JWKSet] = [:]
        if let jwks = options.jwks {
            do {
                let keys = try await JWKSet.load(contentsOfFile: jwks)
                for issuer in policy.model.tokens?.issuers ?? [] { staticKeys[issuer.issuer] = keys }
            } catch {
                throw Output.fail("cannot use the JWKS file `\(jwks)`: \(error.message)")
            }
        }
        let minimum = ProtocolRevision(options.minProtocol) ?? .june2025
        var settings = AuthorizationSettings(
            protocols: ProtocolSupport(minimum: minimum),
            challengeScope: options.challengeScope == "required" ? .required : .grantedPlusMissing)
        settings.mode = options.mode.flatMap(PolicyMode.init(rawValue:))
        let prometheus = PrometheusMetrics.bootstrap()
        let metrics = ScopeGateMetrics()
        let audit: AuditLog?
        do throws(AuditLogError) {
            audit = try options.audit.map { destination throws(AuditLogError) in
                try AuditLog.open(destination, metrics: metrics)
            }
        } catch {
            throw Output.fail(error.message)
        }
        let configuration = ProxyConfiguration(
            upstream: options.upstream, endpointPath: options.endpoint, authorization: settings,
            resource: options.resource)
        let tokens = TokenAuthenticator(
            store: store, resource: options.resource, staticKeys: staticKeys, metrics: metrics)
        let operations = ProxyOperations(
            reporter: DecisionReporter(audit: audit, metrics: metrics), prometheus: prometheus,
            verifiedToken: tokens.verifiedToken)
        let proxy = MCPProxy(
            store: store, configuration: configuration, authenticate: tokens.credential, operations: operations)
        let reloader = PolicyReloader(
            store: store, path: options.policyOptions.policy, metrics: metrics, onSIGHUP: { audit?.reopen() })
        reloader.reloadOnSIGHUP()
        let address = ListenAddress(options.listen) ?? ListenAddress("127.0.0.1:8080")
        let app = Application(
            responder: ProxyResponder(proxy: proxy),
            configuration: .init(
                address: .hostname(address?.host ?? "127.0.0.1", port: address?.port ?? 8080),
                serverName: "scopegate"))
        let shadow =
            switch settings.mode ?? policy.model.mode {
            case .shadow: " (shadow mode: denials are logged, not enforced)"
            case .enforce: ""
            case nil: policy.model.hasShadowMode ? " (some tools in shadow mode)" : ""
            }
        Output.stderr("scopegate proxy: \(options.listen) → \(options.upstream)\(shadow)\n")
        let polling = Task { await reloader.run() }
        let probing = Task { await proxy.probeUpstream() }
        // SIGTERM or SIGINT: the server stops accepting and finishes in-flight requests and streams; then the
        // audit log writes what it holds.
        do {
            try await app.runService()
        } catch {
            polling.cancel()
            probing.cancel()
            await audit?.close()
            throw error
        }
        polling.cancel()
        probing.cancel()
        await audit?.close()
    }
}
