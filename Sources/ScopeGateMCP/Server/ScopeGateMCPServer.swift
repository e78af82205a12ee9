import Foundation
import Hummingbird
import Logging
import MCP
import NIOCore
import ScopeGate
import ScopeGateTokens

/// A policy-protected MCP server over HTTP with the default stack, in two lines:
///
/// ```swift
/// let server = try ScopeGateMCPServer(policy: "policies/climate.yaml", tools: tools) { call, caller in
///     CallTool.Result(content: [.text(text: "hello \(caller.clientID ?? "")", annotations: nil, _meta: nil)])
/// }
/// try await server.run(host: "127.0.0.1", port: 8080)
/// ```
///
/// It wires the layers of the integration with their defaults: an ``MCPAuthorizer`` over the compiled policy (token
/// verification, decisions, audit events, metrics), an ``MCPHTTPGateway`` (Protected Resource Metadata, 401/403
/// challenges), an ``MCPSessionRouter`` whose SDK servers run the origin, accept, content-type, protocol-version
/// and ``CachedTokenValidator`` checks and register the tools through
/// ``MCP/Server/withAuthorizedTools(_:tools:caller:delegating:)`` (filtered `tools/list`), and a ``PolicyReloader``
/// (poll and `SIGHUP`) while ``run(host:port:onRunning:)`` runs. Each layer stays public for servers that need
/// another arrangement; ``Options`` covers the common adjustments.
public struct ScopeGateMCPServer: Sendable {
    /// Adjustments to the default stack. Every field has a default.
    ///
    /// ```swift
    /// var options = ScopeGateMCPServer.Options()
    /// options.configuration.resource = "https://mcp.example.com/mcp"   // token audience, metadata URL
    /// options.allowedHosts = ["mcp.example.com"]
    /// options.reloadInterval = .seconds(10)
    /// let server = try ScopeGateMCPServer(policy: "policy.yaml", tools: tools, options: options) { call, _ in … }
    /// ```
    public struct Options: Sendable {
        /// How tokens are verified, decided and reported (resource override, issuers, audit sink, limits, …).
        public var configuration = ScopeGateMCPConfiguration()
        /// The MCP server name and version announced in `initialize`.
        public var name = "scopegate-mcp"
        public var version = "1.0.0"
        /// `Host` header values accepted besides loopback and the host of the resource id (DNS-rebinding
        /// protection); `host:*` accepts any port.
        public var allowedHosts: [String] = []
        /// How often the policy files are polled for changes; nil: no polling.
        public var reloadInterval: Duration? = .seconds(2)
        /// Whether `SIGHUP` reloads the policy at once (the signal's default action is replaced).
        public var reloadOnSIGHUP = true
        /// Called on every new SDK server after the tools are registered: add resources, prompts, other handlers.
        public var configureServer: @Sendable (Server) async -> Void = { _ in }
        /// The HTTP server's logger.
        public var logger = Logger(label: "scopegate.http")

        /// The defaults.
        public init() {}
    }

    /// Tokens, policy, audit and metrics.
    public let authorizer: MCPAuthorizer
    /// The HTTP authorization layer; call ``MCPHTTPGateway/handle(_:)`` directly to serve it without Hummingbird.
    public let gateway: MCPHTTPGateway
    /// One SDK server per session, behind the gateway.
    public let router: MCPSessionRouter
    /// The hot reload of the policy; ``run(host:port:onRunning:)`` starts it.
    public let reloader: PolicyReloader
    let options: Options

    /// Compiles the policy at `path` and wires the protected server; `handler` runs only for allowed calls.
    /// Throws every diagnostic of a policy with errors.
    public init(
        policy path: String, tools: [Tool], options: Options = .init(),
        handler: @escaping @Sendable (CallTool.Parameters, Caller) async throws -> CallTool.Result
    ) throws(PolicyError) {
        let authorizer = try MCPAuthorizer(policyPath: path, configuration: options.configuration)
        self.init(
            authorizer: authorizer, policyPath: path, tools: tools, options: options, exchange: false,
            handler: { params, caller, _ in try await handler(params, caller) })
    }

    /// Like ``init(policy:tools:options:handler:)``; for an allowed call of a tool with `downstream:`, the
    /// caller's token is exchanged first (RFC 8693) and `handler` gets the ``DownstreamToken``.
    public init(
        policy path: String, tools: [Tool], options: Options = .init(),
        delegating handler:
            @escaping @Sendable (CallTool.Parameters, Caller, DownstreamToken?) async throws -> CallTool.Result
    ) throws(PolicyError) {
        let authorizer = try MCPAuthorizer(policyPath: path, configuration: options.configuration)
        self.init(
            authorizer: authorizer, policyPath: path, tools: tools, options: options, exchange: true,
            handler: handler)
    }

    /// The stack over an authorizer you built, e.g. when the configuration depends on the loaded policy.
    /// `policyPath` is the root file the authorizer's store was loaded from (watched for reloads);
    /// `options.configuration` is not used (the authorizer has its own).
    public init(
        authorizer: MCPAuthorizer, policyPath: String, tools: [Tool], options: Options = .init(),
        delegating handler:
            @escaping @Sendable (CallTool.Parameters, Caller, DownstreamToken?) async throws -> CallTool.Result
    ) {
        self.init(
            authorizer: authorizer, policyPath: policyPath, tools: tools, options: options, exchange: true,
            handler: handler)
    }

    init(
        authorizer: MCPAuthorizer, policyPath: String, tools: [Tool], options: Options, exchange: Bool,
        handler: @escaping @Sendable (CallTool.Parameters, Caller, DownstreamToken?) async throws -> CallTool.Result
    ) {
        self.authorizer = authorizer
        self.options = options
        let hosts = Self.allowedHosts(resource: authorizer.resourceID(), extra: options.allowedHosts)
        let validators: [any HTTPRequestValidator] = [
            OriginValidator(
                allowedHosts: hosts, allowedOrigins: hosts.map { "http://\($0)" } + hosts.map { "https://\($0)" }),
            AcceptHeaderValidator(mode: .jsonOnly),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
            CachedTokenValidator(authorizer: authorizer),
        ]
        let router = MCPSessionRouter(validators: validators) {
            let server = Server(
                name: options.name, version: options.version, capabilities: .init(tools: .init(listChanged: false)))
            if exchange {
                await server.withAuthorizedTools(authorizer, tools: tools, delegating: handler)
            } else {
                await server.withAuthorizedTools(authorizer, tools: tools) { params, caller in
                    try await handler(params, caller, nil)
                }
            }
            await options.configureServer(server)
            return server
        }
        self.router = router
        self.gateway = MCPHTTPGateway(authorizer: authorizer) { request, caller in
            await router.handle(request, caller: caller)
        }
        self.reloader = PolicyReloader(
            authorizer: authorizer, path: policyPath, interval: options.reloadInterval ?? .seconds(2))
    }

    /// Loopback on any port, the resource id's host (with its port, if any), then `extra`.
    static func allowedHosts(resource: String?, extra: [String]) -> [String] {
        var hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
        if let resource, let url = URL(string: resource), let host = url.host {
            hosts.append(url.port.map { "\(host):\($0)" } ?? host)
        }
        return hosts + extra
    }

    /// The Hummingbird application serving the gateway on `host:port` (port 0: any free port, reported to
    /// `onRunning`), for a `ServiceGroup` of your own; it does not start the reloader (see ``startReloading()``).
    public func application(
        host: String = "127.0.0.1", port: Int = 8080, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> Application<GatewayResponder> {
        ScopeGateHTTPServer.application(
            gateway: gateway, host: host, port: port, logger: options.logger,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    /// Starts the hot reload the options ask for (`SIGHUP`, polling) and returns the polling task (nil without
    /// polling); cancel it to stop.
    @discardableResult
    public func startReloading() -> Task<Void, Never>? {
        if options.reloadOnSIGHUP { reloader.reloadOnSIGHUP() }
        guard options.reloadInterval != nil else { return nil }
        let reloader = self.reloader
        return Task { await reloader.run() }
    }

    /// Serves until the task is cancelled or the process gets `SIGTERM`/`SIGINT` (graceful shutdown), reloading
    /// the policy meanwhile. `onRunning` gets the bound port once the server listens.
    public func run(
        host: String = "127.0.0.1", port: Int = 8080, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let poller = startReloading()
        defer { poller?.cancel() }
        do {
            try await application(host: host, port: port, onRunning: onRunning).runService()
        } catch {
            await router.shutdown()
            throw error
        }
        await router.shutdown()
    }
}
