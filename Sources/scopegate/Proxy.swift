import ArgumentParser
import Foundation
import Hummingbird
import ScopeGate
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTokens

struct Proxy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an authorizing reverse proxy in front of a Streamable HTTP MCP server.",
        discussion: """
            Every request to the endpoint is authorized with the policy (tokens from its `tokens:` section, the \
            audience from `resource.id`); 401, 403 and 400 are answered by the proxy and never forwarded. Allowed \
            requests go to --upstream without the client's Authorization header; responses stream back, list \
            results filtered to what the token may call. Also serves Protected Resource Metadata and /healthz. \
            See docs/gateway.md. Runs until interrupted; exit 2 when the policy or the options are unusable.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: ArgumentHelp("The upstream MCP endpoint (http://host:port/path).", valueName: "url"))
    var upstream: String

    @Option(name: .long, help: ArgumentHelp("Listen address.", valueName: "host:port"))
    var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: "The canonical resource URI (token audience); default: the policy's resource.id.")
    var resource: String?

    @Option(name: .long, help: "The MCP endpoint path; default: the path of the resource URI, else /mcp.")
    var endpoint: String?

    @Option(name: .long, help: "The oldest protocol revision served (2025-06-18, 2025-11-25 or 2026-07-28).")
    var minProtocol: String = "2025-06-18"

    @Option(
        name: .long, help: "The scope of a 403 challenge: required (what the operation needs) or granted-plus-missing.")
    var challengeScope: String = "required"

    @Option(
        name: .long,
        help: ArgumentHelp("Read the issuers' keys from this JWKS file instead of fetching them.", valueName: "file"))
    var jwks: String?

    func validate() throws {
        guard URL(string: upstream)?.host != nil else { throw ValidationError("--upstream must be an http(s) URL") }
        guard Self.address(listen) != nil else { throw ValidationError("--listen must be host:port") }
        guard ProtocolRevision(minProtocol).map(ProtocolRevision.known.contains) == true else {
            throw ValidationError("--min-protocol must be one of 2025-06-18, 2025-11-25, 2026-07-28")
        }
        guard ["required", "granted-plus-missing"].contains(challengeScope) else {
            throw ValidationError("--challenge-scope must be required or granted-plus-missing")
        }
    }

    static func address(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        return (String(text[..<colon]), port)
    }

    func run() async throws {
        let policy = try policyOptions.load()
        let store = PolicyStore(initial: policy)
        var staticKeys: [String: JWKSet] = [:]
        if let jwks {
            do {
                let keys = try await JWKSet.load(contentsOfFile: jwks)
                for issuer in policy.model.tokens?.issuers ?? [] { staticKeys[issuer.issuer] = keys }
            } catch {
                throw Output.fail("cannot use the JWKS file `\(jwks)`: \(error.message)")
            }
        }
        let minimum = ProtocolRevision(minProtocol) ?? .june2025
        let settings = AuthorizationSettings(
            protocols: ProtocolSupport(minimum: minimum),
            challengeScope: challengeScope == "required" ? .required : .grantedPlusMissing)
        let configuration = ProxyConfiguration(
            upstream: upstream, endpointPath: endpoint, authorization: settings, resource: resource)
        let tokens = TokenAuthenticator(store: store, resource: resource, staticKeys: staticKeys)
        let proxy = MCPProxy(store: store, configuration: configuration, authenticate: tokens.credential)
        let (host, port) = Self.address(listen) ?? ("127.0.0.1", 8080)
        let app = Application(
            responder: ProxyResponder(proxy: proxy),
            configuration: .init(address: .hostname(host, port: port), serverName: "scopegate"))
        Output.stderr("scopegate proxy: \(listen) → \(upstream)\n")
        try await app.runService()
    }
}
