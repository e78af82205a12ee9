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
        var configuration = ProxyConfiguration(
            upstream: options.upstream ?? "", endpointPath: options.endpoint, authorization: settings,
            resource: options.resource)
        configuration.upstreamCommand = try options.upstreamArguments()
        configuration.sessionCapacity = options.maxSessions
        configuration.sessionIdleTimeout = TimeInterval(options.sessionIdleTimeout)
        if configuration.upstreamCommand != nil {
            // The child is a third party: it inherits this environment without the secrets the proxy reads.
            var environment = ProcessInfo.processInfo.environment
            for issuer in policy.model.tokens?.issuers ?? [] {
                if let name = issuer.exchange?.clientSecretEnv { environment[name] = nil }
                if let name = issuer.introspection?.clientSecretEnv { environment[name] = nil }
            }
            configuration.upstreamEnvironment = environment
        }
        if let name = options.upstreamAuthEnv {
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw Output.fail("--upstream-auth-env: the environment variable `\(name)` is not set")
            }
            configuration.upstreamAuthorization = value
        }
        let tokens = TokenAuthenticator(
            store: store, resource: options.resource, staticKeys: staticKeys, metrics: metrics)
        let operations = ProxyOperations(
            reporter: DecisionReporter(audit: audit, metrics: metrics), prometheus: prometheus,
            verifiedToken: tokens.verifiedToken)
        let proxy = MCPProxy(
            store: store, configuration: configuration, authenticate: tokens.credential, identify: tokens.verified,
            operations: operations)
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
        let target = options.upstream ?? "stdio: " + (options.upstreamCommand ?? "")
        Output.stderr("scopegate proxy: \(options.listen) → \(target)\(shadow)\n")
        let polling = Task { await reloader.run() }
        // An HTTP upstream is ready once it answers a probe; a stdio child once it has started (it is started
        // now, so a command that cannot start is reported at once; requests retry it).
        let probing = Task {
            guard configuration.upstreamCommand != nil else { return await proxy.probeUpstream() }
            do throws(UpstreamFailure) {
                try await proxy.prepare()
                proxy.operations.readiness.set("upstream")
            } catch {
                Output.stderr("scopegate proxy: warning: \(error.message); retried at each request\n")
            }
        }
        // SIGTERM or SIGINT: the server stops accepting and finishes in-flight requests and streams; then the
        // stdio child ends and the audit log writes what it holds.
        do {
            try await app.runService()
        } catch {
            polling.cancel()
            probing.cancel()
            await proxy.shutdown()
            await audit?.close()
            throw error
        }
        polling.cancel()
        probing.cancel()
        await proxy.shutdown()
        await audit?.close()
    }
}
