import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import ScopeGateTokens

/// The example server: five tools protected by `policies/climate.yaml`; `update_client` calls a downstream API with a
/// token exchanged for it (RFC 8693), never with the caller's.
enum ClimateServer {
    static let tools: [Tool] = [
        Tool(
            name: "get_forecast", description: "Forecast for a location (needs mcp:tools:climate)",
            inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "location": .object(["type": "string"]),
                    "days": .object(["type": "integer"]),
                ]),
                "required": .array(["location"]),
            ])),
        Tool(
            name: "read_client", description: "A client record (needs mcp:data:client-info:read)",
            inputSchema: .object([
                "type": "object",
                "properties": .object(["client_id": .object(["type": "string"])]),
                "required": .array(["client_id"]),
            ])),
        Tool(
            name: "automation_run_report",
            description: "Start the report workflow (needs mcp:operations:automation:workflows:run)",
            inputSchema: .object(["type": "object", "properties": .object(["report": .object(["type": "string"])])])),
        Tool(
            name: "file_manager",
            description: "read (read:files), write (write:files) or delete (admin:system) a workspace file",
            inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "action": .object(["type": "string", "enum": .array(["read", "write", "delete"])]),
                    "path": .object(["type": "string"]),
                    "content": .object(["type": "string"]),
                ]),
                "required": .array(["action", "path"]),
            ])),
        Tool(
            name: "update_client",
            description:
                "Update a client record in the CRM (needs mcp:data:client-info:write; calls the CRM API with an exchanged token)",
            inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "client_id": .object(["type": "string"]),
                    "plan": .object(["type": "string"]),
                ]),
                "required": .array(["client_id"]),
            ])),
    ]

    static func text(_ s: String, error: Bool = false) -> CallTool.Result {
        CallTool.Result(content: [.text(text: s, annotations: nil, _meta: nil)], isError: error ? true : nil)
    }

    /// The tools' behaviour (deterministic fakes); authorization already happened.
    static func call(_ params: CallTool.Parameters) -> CallTool.Result {
        let arguments = params.arguments ?? [:]
        switch params.name {
        case "get_forecast":
            let location = arguments["location"]?.stringValue ?? "unknown"
            let days = arguments["days"]?.intValue ?? 1
            return text("forecast for \(location), \(max(1, min(days, 14))) day(s): 21°C, light wind, 10% rain")
        case "read_client":
            let id = arguments["client_id"]?.stringValue ?? "?"
            return text("client \(id): Example Farms Ltd, contact ops@example.com, plan: premium")
        case "automation_run_report":
            return text("started workflow run `\(arguments["report"]?.stringValue ?? "daily")` (run id 42)")
        case "file_manager":
            let path = arguments["path"]?.stringValue ?? "/"
            switch arguments["action"]?.stringValue {
            case "read": return text("contents of \(path): hello")
            case "write": return text("wrote \(arguments["content"]?.stringValue?.utf8.count ?? 0) bytes to \(path)")
            case "delete": return text("deleted \(path)")
            default: return text("unknown action", error: true)
            }
        default:
            return text("unknown tool `\(params.name)`", error: true)
        }
    }

    /// `update_client`: the one tool with a `downstream:` exchange. It calls the CRM API with the exchanged token
    /// (it never sees the caller's).
    static func updateClient(_ params: CallTool.Parameters, downstream: DownstreamToken?, crm: ClientRecordsClient)
        async -> CallTool.Result
    {
        guard let downstream else {
            return text("update_client needs a token for the CRM API (authorization is off)", error: true)
        }
        let arguments = params.arguments ?? [:]
        let id = arguments["client_id"]?.stringValue ?? "?"
        let plan = arguments["plan"]?.stringValue ?? "standard"
        let fields = "{\"plan\":\(JSONText.quote(String(plan.prefix(64))))}"
        guard let (status, body) = await crm.update(client: id, fields: fields, token: downstream) else {
            return text("the CRM API is unreachable", error: true)
        }
        guard status == 200 else { return text("the CRM API answered \(status): \(body.prefix(200))", error: true) }
        return text("updated client \(id) (plan \(plan)) through the CRM API: \(body.prefix(200))")
    }

    /// A configured MCP server with the authorization wrapper (`authorizer` nil: no authorization at all, the
    /// baseline of the load test).
    static func makeServer(authorizer: MCPAuthorizer?, crm: ClientRecordsClient) async -> Server {
        let server = Server(
            name: "climate-server", version: "1.0.0",
            capabilities: .init(tools: .init(listChanged: false)))
        if let authorizer {
            await server.withAuthorizedTools(
                authorizer, tools: tools,
                delegating: { params, _, downstream in
                    params.name == "update_client"
                        ? await updateClient(params, downstream: downstream, crm: crm) : call(params)
                })
        } else {
            await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
            await server.withMethodHandler(CallTool.self) { params in
                params.name == "update_client" ? await updateClient(params, downstream: nil, crm: crm) : call(params)
            }
        }
        return server
    }
}

/// Settings of the example, from the environment.
struct ClimateSettings: Sendable {
    var policyPath = "policies/climate.yaml"
    var host = "127.0.0.1"
    var port = 8080
    /// `MCP_RESOURCE`: overrides `resource.id` (token audience, metadata URL).
    var resource: String?
    /// `MCP_ISSUER` (+ `MCP_JWKS_URI`): replaces the policy's issuers with this one (e.g. a local Glewlwyd).
    var issuer: String?
    var jwksURI: String?
    /// `SCOPEGATE_AUTHZ=off`: serve the same tools without any authorization (load-test baseline only).
    var authorization = true
    /// `MCP_ALLOWED_HOSTS`: extra `Host` header values accepted (DNS-rebinding protection).
    var allowedHosts: [String] = []
    /// `MCP_EXCHANGE_ENDPOINT` + `MCP_EXCHANGE_CLIENT_ID` (+ `MCP_EXCHANGE_CLIENT_AUTH`, `MCP_EXCHANGE_TARGET`): RFC 8693
    /// token exchange at the `MCP_ISSUER` issuer, the secret in `MCP_EXCHANGE_SECRET`. Without them, `update_client`
    /// answers `exchange.not_configured`.
    var exchange: TokensConfig.Exchange?
    /// `CRM_API_URL`: the CRM API `update_client` calls; default: the in-process API on 127.0.0.1 (`CRM_API_PORT`,
    /// default any free port).
    var crmURL: URL?
    var crmPort = 0

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let p = environment["SCOPEGATE_POLICY"], !p.isEmpty { policyPath = p }
        if let h = environment["HOST"], !h.isEmpty { host = h }
        if let p = environment["PORT"].flatMap(Int.init) { port = p }
        resource = environment["MCP_RESOURCE"].flatMap { $0.isEmpty ? nil : $0 }
        issuer = environment["MCP_ISSUER"].flatMap { $0.isEmpty ? nil : $0 }
        jwksURI = environment["MCP_JWKS_URI"].flatMap { $0.isEmpty ? nil : $0 }
        authorization = environment["SCOPEGATE_AUTHZ"] != "off"
        allowedHosts = (environment["MCP_ALLOWED_HOSTS"] ?? "").split(separator: ",").map(String.init)
        if let endpoint = environment["MCP_EXCHANGE_ENDPOINT"], !endpoint.isEmpty,
            let clientID = environment["MCP_EXCHANGE_CLIENT_ID"], !clientID.isEmpty
        {
            exchange = TokensConfig.Exchange(
                endpoint: endpoint, clientID: clientID, clientSecretEnv: "MCP_EXCHANGE_SECRET",
                clientAuthentication: environment["MCP_EXCHANGE_CLIENT_AUTH"].flatMap(
                    TokensConfig.Exchange.ClientAuthentication.init(rawValue:)) ?? .basic,
                target: environment["MCP_EXCHANGE_TARGET"].flatMap(TokensConfig.Exchange.Target.init(rawValue:))
                    ?? .audience)
        }
        crmURL = environment["CRM_API_URL"].flatMap { $0.isEmpty ? nil : URL(string: $0) }
        if let p = environment["CRM_API_PORT"].flatMap(Int.init) { crmPort = p }
    }

    /// The configuration overrides these settings imply for `policy`.
    func apply(to configuration: inout ScopeGateMCPConfiguration, policy: CompiledPolicy) {
        if let resource { configuration.resource = resource }
        if let issuer {
            let base = policy.model.tokens
            let first = base?.issuers.first
            let replacement = TokensConfig.Issuer(
                issuer: issuer, jwksURI: jwksURI, algorithms: first?.algorithms ?? ["RS256", "ES256"], audiences: [],
                scopeClaims: first?.scopeClaims, roles: first?.roles, stripPrefixes: first?.stripPrefixes ?? [],
                exchange: exchange, location: SourceLocation(file: "MCP_ISSUER", line: 1, column: 1))
            configuration.tokens = TokensConfig(
                issuers: [replacement], leewaySeconds: base?.leewaySeconds ?? 60,
                scopeClaims: base?.scopeClaims ?? ["scope", "scp"],
                requireTyp: base?.requireTyp)
            configuration.authorizationServers = [issuer]
        }
    }
}

/// The example's HTTP stack: gateway (authorization) → session router (one SDK server per session).
struct ClimateApp: Sendable {
    let authorizer: MCPAuthorizer
    let gateway: MCPHTTPGateway
    let router: MCPSessionRouter
    /// The CRM API `update_client` calls through ``crm`` (served on 127.0.0.1 by `main` unless `CRM_API_URL` is set).
    let crmAPI: ClientRecordsAPI
    let crm: ClientRecordsClient

    /// Builds the stack. `configure` adjusts the configuration after the settings are applied (tests inject keys,
    /// clocks and audit sinks there); `crmFetcher` is how `update_client` reaches the CRM API.
    static func make(
        settings: ClimateSettings, crmFetcher: any HTTPFetcher = URLSessionFetcher(),
        configure: (inout ScopeGateMCPConfiguration) -> Void = { _ in }
    ) throws -> ClimateApp {
        let store = try PolicyStore(path: settings.policyPath)
        var configuration = ScopeGateMCPConfiguration()
        settings.apply(to: &configuration, policy: store.current.policy)
        configure(&configuration)
        let authorizer = MCPAuthorizer(store: store, configuration: configuration)
        let crmAPI = ClientRecordsAPI(
            tokens: configuration.tokens ?? store.current.policy.model.tokens ?? TokensConfig(issuers: []),
            fetcher: configuration.fetcher, clock: configuration.clock)
        let crm = ClientRecordsClient(base: settings.crmURL, fetcher: crmFetcher)
        var hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"] + settings.allowedHosts
        if let id = authorizer.resourceID(), let url = URL(string: id), let host = url.host {
            hosts.append(url.port.map { "\(host):\($0)" } ?? host)
        }
        let authorized = settings.authorization
        var validators: [any HTTPRequestValidator] = [
            OriginValidator(
                allowedHosts: hosts, allowedOrigins: hosts.map { "http://\($0)" } + hosts.map { "https://\($0)" }),
            AcceptHeaderValidator(mode: .jsonOnly),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
        ]
        if authorized { validators.append(CachedTokenValidator(authorizer: authorizer)) }
        let router = MCPSessionRouter(validators: validators) {
            await ClimateServer.makeServer(authorizer: authorized ? authorizer : nil, crm: crm)
        }
        let gateway: MCPHTTPGateway
        if authorized {
            gateway = MCPHTTPGateway(authorizer: authorizer) { request, caller in
                await router.handle(request, caller: caller)
            }
        } else {
            let anonymous = Caller(scopes: [], policy: store.current.policy)
            gateway = MCPHTTPGateway(authorizer: authorizer, bypassAuthorization: anonymous) { request, caller in
                await router.handle(request, caller: caller)
            }
        }
        return ClimateApp(authorizer: authorizer, gateway: gateway, router: router, crmAPI: crmAPI, crm: crm)
    }
}
