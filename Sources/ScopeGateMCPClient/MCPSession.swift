import Foundation
import ScopeGate

/// An MCP client session over any ``MCPTransport``: `initialize`, then `tools/list` with pagination.
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

    public init(transport: any MCPTransport, timeout: Duration = .seconds(30)) {
        self.transport = transport
        self.timeout = timeout
    }

    /// Sends `initialize` (protocol 2025-11-25, no client capabilities) and `notifications/initialized`.
    public func initialize() throws(MCPClientError) -> ServerInfo {
        let params: JSONValue = .object([
            "protocolVersion": .string(Self.protocolVersion),
            "capabilities": .object([:]),
            "clientInfo": .object(["name": .string("scopegate"), "version": .string("0.1.0")]),
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

    /// Sends one request and returns its `result`.
    public func call(_ method: String, params: JSONValue?) throws(MCPClientError) -> JSONValue {
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
