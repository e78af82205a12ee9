import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import ScopeGateTokens
import ScopeGateURLSession

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

    /// Every tool's behaviour once the call is allowed: `update_client` gets the exchanged token for its API.
    static func handle(_ params: CallTool.Parameters, downstream: DownstreamToken?, crm: ClientRecordsClient) async
        -> CallTool.Result
    {
        params.name == "update_client" ? await updateClient(params, downstream: downstream, crm: crm) : call(params)
    }

    /// The same tools with no authorization at all: the baseline of the load test only.
    static func makeUnprotectedServer(crm: ClientRecordsClient) async -> Server {
        let server = Server(
            name: "climate-server", version: "1.0.0",
            capabilities: .init(tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: tools) }
        await server.withMethodHandler(CallTool.self) { params in
            await handle(params, downstream: nil, crm: crm)
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
    /// `SCOPEGATE_RELOAD_SECONDS`: how often the policy files are polled (default 2).
    var reloadInterval: Duration = .seconds(2)

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
        if let seconds = environment["SCOPEGATE_RELOAD_SECONDS"].flatMap(Int.init) {
            reloadInterval = .seconds(seconds)
        }
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

/// The example's HTTP stack: ``ScopeGateMCPServer`` with options from the settings, and the CRM API that
/// `update_client` calls.
struct ClimateApp: Sendable {
    let authorizer: MCPAuthorizer
    let gateway: MCPHTTPGateway
    /// The protected server; nil with `SCOPEGATE_AUTHZ=off` (the load test's baseline, served by ``gateway`` alone).
    let server: ScopeGateMCPServer?
    /// The CRM API `update_client` calls through ``crm`` (served on 127.0.0.1 by `main` unless `CRM_API_URL` is set).
    let crmAPI: ClientRecordsAPI
    let crm: ClientRecordsClient

    /// Builds the stack. `configure` adjusts the configuration after the settings are applied (tests inject keys,
    /// clocks and audit sinks there); `crmFetcher` is how `update_client` reaches the CRM API.
    static func make(
        settings: ClimateSettings, crmFetcher: any HTTPFetcher = URLSessionFetcher(),
        configure: (inout ScopeGateMCPConfiguration) -> Void = { _ in }
    ) throws -> ClimateApp {
        // The settings replace the policy's issuer with defaults taken from it, so the authorizer is built here and
        // handed to the convenience (``ScopeGateMCPServer/init(policy:tools:options:handler:)`` is the usual form).
        let store = try PolicyStore(path: settings.policyPath)
        var configuration = ScopeGateMCPConfiguration()
        settings.apply(to: &configuration, policy: store.current.policy)
        configure(&configuration)
        let authorizer = MCPAuthorizer(store: store, configuration: configuration)
        let crmAPI = ClientRecordsAPI(
            tokens: configuration.tokens ?? store.current.policy.model.tokens ?? TokensConfig(issuers: []),
            fetcher: configuration.fetcher, clock: configuration.clock)
        let crm = ClientRecordsClient(base: settings.crmURL, fetcher: crmFetcher)
        guard settings.authorization else {
            let gateway = unprotectedGateway(authorizer: authorizer, settings: settings, crm: crm)
            return ClimateApp(authorizer: authorizer, gateway: gateway, server: nil, crmAPI: crmAPI, crm: crm)
        }
        var options = ScopeGateMCPServer.Options()
        options.name = "climate-server"
        options.allowedHosts = settings.allowedHosts
        options.reloadInterval = settings.reloadInterval
        let server = ScopeGateMCPServer(
            authorizer: authorizer, policyPath: settings.policyPath, tools: ClimateServer.tools, options: options
        ) { params, _, downstream in
            await ClimateServer.handle(params, downstream: downstream, crm: crm)
        }
        return ClimateApp(authorizer: authorizer, gateway: server.gateway, server: server, crmAPI: crmAPI, crm: crm)
    }

    /// `SCOPEGATE_AUTHZ=off`: the same routing with no authentication or authorization (never deploy it).
    static func unprotectedGateway(authorizer: MCPAuthorizer, settings: ClimateSettings, crm: ClientRecordsClient)
        -> MCPHTTPGateway
    {
        let hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"] + settings.allowedHosts
        let router = MCPSessionRouter(validators: [
            OriginValidator(
                allowedHosts: hosts, allowedOrigins: hosts.map { "http://\($0)" } + hosts.map { "https://\($0)" }),
            AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
        ]) { await ClimateServer.makeUnprotectedServer(crm: crm) }
        let anonymous = Caller(scopes: [], policy: authorizer.store.current.policy)
        return MCPHTTPGateway(authorizer: authorizer, bypassAuthorization: anonymous) { request, caller in
            await router.handle(request, caller: caller)
        }
    }
}
