import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateAuthz
import ScopeGateCommandLine
import ScopeGateOperations

/// Runs `scopegate authz` (options and help in ``AuthzOptions``).
struct AuthzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authz",
        abstract: "Serve per-tool decisions to nginx auth_request, Caddy forward_auth or Envoy ext_authz.")

    @OptionGroup var options: AuthzOptions

    func run() async throws {
        let services = try await GatewayServices(options.gateway)
        let configuration = AuthzConfiguration(
            path: options.path, authorization: services.settings, resource: options.gateway.resource)
        let tokens = services.tokens
        let service = AuthzService(
            store: services.store, configuration: configuration,
            authenticate: { header, policy in
                let (credential, token) = await tokens.verify(header, policy)
                return Authentication(credential: credential, token: token)
            },
            authenticateAtOnce: { header, policy in
                tokens.verifyAtOnce(header, policy).map { Authentication(credential: $0.credential, token: $0.token) }
            },
            reporter: services.reporter, prometheus: services.mainListenerMetrics)
        let address = ListenAddress(options.listen) ?? ListenAddress("127.0.0.1:8081")
        let server = AuthzServer(
            service: service, host: address?.host ?? "127.0.0.1", port: address?.port ?? 8081,
            idleTimeout: .seconds(Int64(options.idleTimeout)))
        Output.stderr(
            "scopegate authz: decisions on http://\(options.listen)\(options.path)\(services.modeNote)\(services.metricsNote)\n"
        )
        Output.stderr(PolicyArgumentReport(policy: services.policy).text)
        try await services.serve(server, readiness: service.endpoints.readiness)
    }
}
