import ArgumentParser
import Foundation
import Hummingbird
import ScopeGate
import ScopeGateCommandLine
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Runs `scopegate proxy` (options and help in ``ProxyOptions``).
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy", abstract: "Serve an authorizing reverse proxy in front of an MCP server.")

    @OptionGroup var options: ProxyOptions

    func run() async throws {
        let services = try await GatewayServices(options.gateway)
        let policy = services.policy
        var configuration = ProxyConfiguration(
            upstream: options.upstream ?? "", endpointPath: options.endpoint, authorization: services.settings,
            resource: options.gateway.resource, upstreamTimeout: .seconds(options.upstreamTimeout))
        configuration.upstreamCommand = try options.upstreamArguments()
        configuration.sessionCapacity = options.maxSessions
        configuration.sessionIdleTimeout = TimeInterval(options.sessionIdleTimeout)
        configuration.maxStreams = options.maxStreams
        configuration.maxStreamsPerPrincipal = options.maxStreamsPerPrincipal
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
        let tokens = services.tokens
        let operations = ProxyOperations(
            reporter: services.reporter, prometheus: services.mainListenerMetrics, verifiedToken: tokens.verifiedToken)
        let proxy = MCPProxy(
            store: services.store, configuration: configuration, authenticate: tokens.credential,
            identify: tokens.verified, authenticateAtOnce: { tokens.verifyAtOnce($0, $1) },
            exchangers: TokenExchangers(fetcher: services.identityProviderFetcher),
            operations: operations)
        let address = ListenAddress(options.listen) ?? ListenAddress("127.0.0.1:8080")
        // The idle timeout also bounds how long a client may take to send its request head: the proxy's connection
        // handler counts activity in whole request parts, so a head trickled in byte by byte is closed like an idle
        // connection.
        let caps = services.settings.limits.parserCaps
        let serverName = "scopegate"
        let app = Application(
            responder: ProxyResponder(proxy: proxy),
            server: .mcpProxy(
                proxy,
                configuration: .init(
                    idleTimeout: .seconds(Int64(options.idleTimeout)),
                    httpDecoderConfiguration: .init(
                        maxHeaderFieldSize: caps.bytes, maxHeaderListSize: caps.bytes, maxHeaderFieldCount: caps.fields)
                ), serverName: serverName
            ),
            configuration: .init(
                address: .hostname(address?.host ?? "127.0.0.1", port: address?.port ?? 8080),
                serverName: serverName))
        let target = options.upstream ?? "stdio: " + (options.upstreamCommand ?? "")
        Output.stderr("scopegate proxy: \(options.listen) → \(target)\(services.modeNote)\(services.metricsNote)\n")
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
        try await services.serve(app, readiness: operations.readiness) {
            probing.cancel()
            await proxy.shutdown()
        }
    }
}
