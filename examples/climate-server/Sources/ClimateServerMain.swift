import Foundation
import Logging
import MCP
import ScopeGate
import ScopeGateMCP

/// `climate-server`: the example MCP server over HTTP (default) or stdio (`--stdio`).
///
/// Environment: `SCOPEGATE_POLICY` (default `policies/climate.yaml`), `HOST` (127.0.0.1), `PORT` (8080),
/// `MCP_RESOURCE`, `MCP_ISSUER`, `MCP_JWKS_URI`, `MCP_ALLOWED_HOSTS`, `SCOPEGATE_AUTHZ=off` (baseline only),
/// `MCP_EXCHANGE_ENDPOINT`/`MCP_EXCHANGE_CLIENT_ID`/`MCP_EXCHANGE_SECRET` (token exchange for `update_client`),
/// `CRM_API_URL` or `CRM_API_PORT` (its downstream API),
/// `SCOPEGATE_RELOAD_SECONDS` (poll interval, default 2), `LOG_LEVEL`; for `--stdio`: `MCP_STDIO_SCOPES` (the
/// scopes the launching host grants, space-separated).
@main
struct ClimateServerMain {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel =
                ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            return handler
        }
        let logger = Logger(label: "climate-server")
        let settings = ClimateSettings()
        let app: ClimateApp
        do {
            app = try ClimateApp.make(settings: settings)
        } catch {
            logger.critical("cannot load the policy \(settings.policyPath):\n\(error)")
            exit(2)
        }
        if CommandLine.arguments.contains("--stdio") {
            let poller = app.server?.startReloading()
            defer { poller?.cancel() }
            await runStdio(app: app, logger: logger)
            return
        }
        // The CRM API that `update_client` calls with an exchanged token, on 127.0.0.1 (unless `CRM_API_URL` names one).
        var crmTask: Task<Void, Never>?
        if settings.crmURL == nil {
            let crm = app.crm
            let crmServer = ClientRecordsResponder.application(api: app.crmAPI, port: settings.crmPort, logger: logger)
            { port in
                crm.base.withLock { $0 = URL(string: "http://127.0.0.1:\(port)") }
                logger.notice(
                    "CRM API (downstream of update_client, audience \(ClientRecordsAPI.audience)) on http://127.0.0.1:\(port)"
                )
            }
            crmTask = Task {
                do { try await crmServer.runService() } catch { logger.error("CRM API failed: \(error)") }
            }
        }
        defer { crmTask?.cancel() }
        let gateway = app.gateway
        let announce: @Sendable (Int) async -> Void = { port in
            logger.notice(
                "climate-server listening on http://\(settings.host):\(port)\(gateway.endpointPath()) (authorization \(settings.authorization ? "on" : "OFF"))"
            )
        }
        do {
            if let server = app.server {
                try await server.run(host: settings.host, port: settings.port, onRunning: announce)
            } else {
                try await ScopeGateHTTPServer.application(
                    gateway: gateway, host: settings.host, port: settings.port, logger: logger,
                    onServerRunning: { channel in await announce(channel.localAddress?.port ?? settings.port) }
                ).runService()
            }
        } catch {
            logger.critical("server failed: \(error)")
            exit(1)
        }
    }

    /// stdio: no HTTP, so the per-tool wrapper decides with the scopes the launching host grants.
    static func runStdio(app: ClimateApp, logger: Logger) async {
        let scopes = (ProcessInfo.processInfo.environment["MCP_STDIO_SCOPES"] ?? "").split(separator: " ").map(
            String.init)
        let authorizer = app.authorizer
        let server = Server(
            name: "climate-server", version: "1.0.0", capabilities: .init(tools: .init(listChanged: false)))
        await server.withAuthorizedTools(
            authorizer, tools: ClimateServer.tools,
            caller: .provider {
                Caller(scopes: scopes, clientID: "stdio", policy: authorizer.store.current.policy)
            },
            delegating: { params, _, downstream in
                await ClimateServer.handle(params, downstream: downstream, crm: app.crm)
            })
        do {
            try await server.start(transport: StdioTransport())
            await server.waitUntilCompleted()
        } catch {
            logger.critical("stdio server failed: \(error)")
            exit(1)
        }
    }
}
