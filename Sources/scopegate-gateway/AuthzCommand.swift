import ArgumentParser
import Foundation
import Hummingbird
import ScopeGate
import ScopeGateAuthz
import ScopeGateCommandLine
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Runs `scopegate authz` (options and help in ``AuthzOptions``).
struct AuthzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authz",
        abstract: "Serve per-tool decisions to nginx auth_request, Caddy forward_auth or Envoy ext_authz.")

    @OptionGroup var options: AuthzOptions

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
        let configuration = AuthzConfiguration(
            path: options.path, authorization: options.authorizationSettings, resource: options.resource)
        let tokens = TokenAuthenticator(store: store, resource: options.resource, staticKeys: staticKeys)
        let service = AuthzService(
            store: store, configuration: configuration,
            authenticate: { header, policy in
                let (credential, token) = await tokens.verify(header, policy)
                return Authentication(credential: credential, subject: token?.subject, clientID: token?.clientID)
            })
        let address = ListenAddress(options.listen) ?? ListenAddress("127.0.0.1:8081")
        let app = Application(
            responder: AuthzResponder(service: service),
            configuration: .init(
                address: .hostname(address?.host ?? "127.0.0.1", port: address?.port ?? 8081),
                serverName: "scopegate"))
        Output.stderr("scopegate authz: decisions on http://\(options.listen)\(options.path)\n")
        Output.stderr(PolicyArgumentReport(policy: policy).text)
        try await app.runService()
    }
}
