import Foundation
import ScopeGate

/// An MCP client session over any ``MCPTransport``: the handshake, then `tools/list` with pagination.
///
/// Over a transport that speaks the stateless revision (``MCPTransport/supportsDiscovery``, HTTP), the handshake
/// is `server/discover` (2026-07-28): when the server lists that revision, every later request carries the
/// per-request `_meta` envelope (protocol version, client capabilities, client info). Otherwise — an error, or a
/// server without it — it is `initialize` (2025-11-25) and `notifications/initialized`.
///
/// ```swift
/// let session = MCPSession(transport: try StdioTransport(argv: ["uvx", "mcp-server-git"]))
/// defer { session.close() }
/// let server = try session.initialize()
/// let tools = try session.listTools()
/// ```
public final class MCPSession: Sendable {
    /// The protocol version this client asks for in `initialize`.
    public static let protocolVersion = "2025-11-25"
    /// The stateless revision tried first with `server/discover`.
    public static let statelessProtocolVersion = "2026-07-28"
    /// The most `tools/list` pages followed before giving up (a server looping on cursors).
    public static let maxPages = 1000

    /// What the server said about itself in its `initialize` result.
    public struct ServerInfo: Sendable, Hashable {
        public var name: String
        public var version: String?
        public var protocolVersion: String
    }

    public let transport: any MCPTransport
    /// Time allowed for each request.
    public let timeout: Duration
    private let ids = IDCounter()
    /// The `_meta` envelope every request carries once `server/discover` chose the stateless revision.
    private let envelope = EnvelopeBox()

    public init(transport: any MCPTransport, timeout: Duration = .seconds(30)) {
        self.transport = transport
        self.timeout = timeout
    }

    static let clientInfo: JSONValue = .object(["name": .string("scopegate"), "version": .string("0.1.0")])

    /// The handshake: `server/discover` (2026-07-28) when the transport supports it and the server lists that
    /// revision, else `initialize` (2025-11-25, no client capabilities) and `notifications/initialized`.
    ///
    /// - Throws: the `initialize` failure (naming the `server/discover` one too when both failed).
    public func initialize() throws(MCPClientError) -> ServerInfo {
        var discoverFailure: MCPClientError?
        if transport.supportsDiscovery {
            do { return try discover() } catch { discoverFailure = error }
        }
        do { return try initializeLegacy() } catch {
            guard let discoverFailure else { throw error }
            throw MCPClientError(error.code, error.message + " (and `server/discover`: \(discoverFailure.message))")
        }
    }

    /// `server/discover` with the 2026-07-28 envelope; throws unless the server lists that revision.
    func discover() throws(MCPClientError) -> ServerInfo {
        let meta: [String: JSONValue] = [
            "io.modelcontextprotocol/protocolVersion": .string(Self.statelessProtocolVersion),
            "io.modelcontextprotocol/clientCapabilities": .object([:]),
            "io.modelcontextprotocol/clientInfo": Self.clientInfo,
        ]
        let id = ids.next()
        let response = try transport.send(
            request: JSONRPC.request(id: id, method: "server/discover", params: .object(["_meta": .object(meta)])),
            id: id, timeout: timeout)
        guard case .object(let result) = try JSONRPC.result(of: response) else {
            throw MCPClientError(.badMessage, "the `server/discover` result is not an object")
        }
        guard case .array(let versions)? = result["supportedVersions"],
            versions.contains(.string(Self.statelessProtocolVersion))
        else {
            throw MCPClientError(.badMessage, "the server does not list \(Self.statelessProtocolVersion)")
        }
        envelope.set(meta)
        var info = ServerInfo(name: "", version: nil, protocolVersion: Self.statelessProtocolVersion)
        var server: [String: JSONValue]?
        if case .object(let meta)? = result["_meta"], case .object(let s)? = meta["io.modelcontextprotocol/serverInfo"]
        {
            server = s
        } else if case .object(let s)? = result["serverInfo"] {
            server = s
        }
        info.name = server?["name"]?.stringValue ?? ""
        info.version = server?["version"]?.stringValue
        return info
    }

    func initializeLegacy() throws(MCPClientError) -> ServerInfo {
        let params: JSONValue = .object([
            "protocolVersion": .string(Self.protocolVersion),
            "capabilities": .object([:]),
            "clientInfo": Self.clientInfo,
        ])
        let result = try call("initialize", params: params)
        guard case .object(let object) = result else {
            throw MCPClientError(.badMessage, "the `initialize` result is not an object")
        }
        var info = ServerInfo(
            name: "", version: nil, protocolVersion: object["protocolVersion"]?.stringValue ?? Self.protocolVersion)
        if case .object(let server)? = object["serverInfo"] {
            info.name = server["name"]?.stringValue ?? ""
            info.version = server["version"]?.stringValue
        }
        try transport.send(notification: JSONRPC.notification(method: "notifications/initialized"))
        return info
    }

    /// Every tool of the server, following `nextCursor` until it is absent.
    public func listTools() throws(MCPClientError) -> [MCPTool] {
        var tools: [MCPTool] = []
        var cursor: String?
        var seen: Set<String> = []
        for _ in 0..<Self.maxPages {
            let params: JSONValue? = cursor.map { .object(["cursor": .string($0)]) }
            let result = try call("tools/list", params: params)
            guard case .object(let object) = result, case .array(let items)? = object["tools"] else {
                throw MCPClientError(.badMessage, "the `tools/list` result has no `tools` array")
            }
            for item in items { tools.append(try MCPTool(json: item)) }
            guard case .string(let next)? = object["nextCursor"], !next.isEmpty else { return tools }
            guard seen.insert(next).inserted else {
                throw MCPClientError(.badMessage, "the server repeated the cursor `\(next)`")
            }
            cursor = next
        }
        throw MCPClientError(.badMessage, "more than \(Self.maxPages) pages of tools")
    }

    /// Sends one request (with the `_meta` envelope after a stateless handshake) and returns its `result`.
    public func call(_ method: String, params: JSONValue?) throws(MCPClientError) -> JSONValue {
        var params = params
        if let meta = envelope.get() {
            var object: [String: JSONValue] = [:]
            if case .object(let given)? = params { object = given }
            var merged = meta
            if case .object(let own)? = object["_meta"] { merged.merge(own) { _, own in own } }
            object["_meta"] = .object(merged)
            params = .object(object)
        }
        let id = ids.next()
        let response = try transport.send(
            request: JSONRPC.request(id: id, method: method, params: params), id: id, timeout: timeout)
        return try JSONRPC.result(of: response)
    }

    /// Closes the transport.
    public func close() { transport.close() }
}

/// Request ids, unique per session.
final class IDCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0  // guarded by `lock`
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// The stateless revision's `_meta` envelope, set once by `server/discover`.
final class EnvelopeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: [String: JSONValue]?  // guarded by `lock`
    func set(_ meta: [String: JSONValue]) { lock.withLock { value = meta } }
    func get() -> [String: JSONValue]? { lock.withLock { value } }
}
