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
        let settings = AuthorizationSettings(
            protocols: ProtocolSupport(minimum: minimum),
            challengeScope: options.challengeScope == "required" ? .required : .grantedPlusMissing)
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
        let tokens = TokenAuthenticator(store: store, resource: options.resource, staticKeys: staticKeys)
        let proxy = MCPProxy(
            store: store, configuration: configuration, authenticate: tokens.credential, identify: tokens.verified)
        let address = ListenAddress(options.listen) ?? ListenAddress("127.0.0.1:8080")
        let app = Application(
            responder: ProxyResponder(proxy: proxy),
            configuration: .init(
                address: .hostname(address?.host ?? "127.0.0.1", port: address?.port ?? 8080),
                serverName: "scopegate"))
        let target = options.upstream ?? "stdio: " + (options.upstreamCommand ?? "")
        Output.stderr("scopegate proxy: \(options.listen) → \(target)\n")
        // Start a stdio child now, so a command that cannot start is reported at once (requests retry it).
        Task {
            do throws(UpstreamFailure) {
                try await proxy.prepare()
            } catch {
                Output.stderr("scopegate proxy: warning: \(error.message); retried at each request\n")
            }
        }
        do {
            try await app.runService()
        } catch {
            await proxy.shutdown()
            throw error
        }
        await proxy.shutdown()
    }
}
