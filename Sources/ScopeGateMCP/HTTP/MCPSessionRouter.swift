import Foundation
import Logging
import MCP

/// Runs MCP servers behind ``MCPHTTPGateway`` with JSON responses (the SDK's `StatelessHTTPServerTransport`),
/// one server per session so that JSON-RPC ids of different clients never collide:
///
/// - `POST` `initialize` without `Mcp-Session-Id` opens a session (a new server) and answers with its id;
/// - requests with `Mcp-Session-Id` go to that session — only for the principal (issuer, subject, client) that
///   opened it; an unknown id or another principal gets `404`;
/// - `DELETE` with the id closes the session; `GET` (no server-initiated stream) gets `405`;
/// - other requests without an id go to one shared server (stateless clients, `curl`): ids of concurrent
///   requests there must be unique.
///
/// JSON responses keep every client working, including the SDK's own client on Linux (which does not parse
/// SSE responses). Idle sessions close after `idleTimeout`; at most `maxSessions` are kept (oldest idle first).
///
/// ```swift
/// let validators: [any HTTPRequestValidator] = [
///     OriginValidator.localhost(), AcceptHeaderValidator(mode: .jsonOnly), CachedTokenValidator(authorizer: authorizer),
/// ]
/// let router = MCPSessionRouter(validators: validators) {
///     let server = Server(name: "files", version: "1.0", capabilities: .init(tools: .init()))
///     await server.withAuthorizedTools(authorizer, tools: tools) { call, caller in try await run(call) }
///     return server
/// }
/// let gateway = MCPHTTPGateway(authorizer: authorizer) { request, caller in
///     await router.handle(request, caller: caller)
/// }
/// ```
public actor MCPSessionRouter {
    /// Makes a configured (not yet started) server for a new session.
    public typealias ServerFactory = @Sendable () async throws -> Server

    struct Session {
        let server: Server
        let transport: StatelessHTTPServerTransport
        let principal: String
        var lastUsed: Date
    }

    let makeServer: ServerFactory
    let validators: [any HTTPRequestValidator]
    let idleTimeout: TimeInterval
    let maxSessions: Int
    let logger: Logger
    var sessions: [String: Session] = [:]
    var shared: Session?

    /// - Parameters:
    ///   - validators: the SDK request validators every transport runs (e.g. ``CachedTokenValidator``, origin,
    ///     accept, content type, protocol version).
    public init(
        validators: [any HTTPRequestValidator], idleTimeout: TimeInterval = 1800, maxSessions: Int = 10_000,
        logger: Logger = Logger(label: "scopegate.mcp.sessions"), makeServer: @escaping ServerFactory
    ) {
        self.makeServer = makeServer
        self.validators = validators
        self.idleTimeout = idleTimeout
        self.maxSessions = max(1, maxSessions)
        self.logger = logger
    }

    /// Handles a request the gateway allowed.
    public func handle(_ request: MCP.HTTPRequest, caller: Caller) async -> MCP.HTTPResponse {
        let method = request.method.uppercased()
        if let id = request.header(HTTPHeaderName.sessionID) {
            guard var session = sessions[id], session.principal == caller.principal else {
                return .error(statusCode: 404, .invalidRequest("Not Found: session not found or expired"))
            }
            if method == "DELETE" {
                sessions[id] = nil
                await session.transport.disconnect()
                return .ok(headers: [:])
            }
            session.lastUsed = Date()
            sessions[id] = session
            return await session.transport.handleRequest(request)
        }
        switch method {
        case "POST":
            if let body = request.body, Self.isInitialize(body) { return await open(request, caller: caller) }
            guard let session = await sharedSession() else {
                return .error(statusCode: 500, .internalError("could not start the server"))
            }
            return await session.transport.handleRequest(request)
        case "GET", "DELETE":
            return .error(statusCode: 405, .invalidRequest("Method Not Allowed"), extraHeaders: ["Allow": "POST"])
        default:
            return .error(statusCode: 405, .invalidRequest("Method Not Allowed"), extraHeaders: ["Allow": "POST"])
        }
    }

    static func isInitialize(_ body: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return object["method"] as? String == "initialize"
    }

    func start() async -> (Server, StatelessHTTPServerTransport)? {
        let transport = StatelessHTTPServerTransport(
            validationPipeline: StandardValidationPipeline(validators: validators),
            logger: logger)
        do {
            let server = try await makeServer()
            try await server.start(transport: transport)
            return (server, transport)
        } catch {
            logger.error("could not start an MCP server: \(error)")
            await transport.disconnect()
            return nil
        }
    }

    func sharedSession() async -> Session? {
        if let shared { return shared }
        guard let (server, transport) = await start() else { return nil }
        if let shared {  // another request started one while this one was suspended
            await server.stop()
            return shared
        }
        let session = Session(server: server, transport: transport, principal: "", lastUsed: Date())
        shared = session
        return session
    }

    func open(_ request: MCP.HTTPRequest, caller: Caller) async -> MCP.HTTPResponse {
        await evict()
        guard let (server, transport) = await start() else {
            return .error(statusCode: 500, .internalError("could not start the server"))
        }
        let id = UUID().uuidString
        let response = await transport.handleRequest(request)
        guard response.statusCode == 200, let data = response.bodyData else {
            await server.stop()
            return response
        }
        sessions[id] = Session(server: server, transport: transport, principal: caller.principal, lastUsed: Date())
        var headers = response.headers
        headers[HTTPHeaderName.sessionID] = id
        return .data(data, headers: headers)
    }

    func evict() async {
        let now = Date()
        var stale = sessions.filter { now.timeIntervalSince($0.value.lastUsed) > idleTimeout }.map(\.key)
        if sessions.count - stale.count >= maxSessions {
            let live = sessions.filter { !stale.contains($0.key) }.sorted { $0.value.lastUsed < $1.value.lastUsed }
            stale += live.prefix(sessions.count - stale.count - maxSessions + 1).map(\.key)
        }
        for id in stale {
            if let session = sessions.removeValue(forKey: id) { await session.server.stop() }
        }
    }

    /// Stops every server.
    public func shutdown() async {
        for (_, session) in sessions { await session.server.stop() }
        sessions.removeAll()
        if let shared { await shared.server.stop() }
        shared = nil
    }
}
