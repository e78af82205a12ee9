import Foundation
import ScopeGate

/// JSON-RPC 2.0 message building and reading, shared by every transport.
package enum JSONRPC {
    static func request(id: Int, method: String, params: JSONValue?) -> JSONValue {
        var object: [String: JSONValue] = [
            "jsonrpc": .string("2.0"), "id": .number(Decimal(id)), "method": .string(method),
        ]
        if let params { object["params"] = params }
        return .object(object)
    }

    static func notification(method: String, params: JSONValue? = nil) -> JSONValue {
        var object: [String: JSONValue] = ["jsonrpc": .string("2.0"), "method": .string(method)]
        if let params { object["params"] = params }
        return .object(object)
    }

    /// The error answered to a request the server sends us: this client offers no capabilities.
    static func methodNotFound(id: JSONValue) -> JSONValue {
        .object([
            "jsonrpc": .string("2.0"), "id": id,
            "error": .object(["code": .number(-32601), "message": .string("method not found")]),
        ])
    }

    /// The `error` member of a response as an ``MCPClientError``.
    static func error(from value: JSONValue) -> MCPClientError {
        guard case .object(let object) = value else {
            return MCPClientError(.rpcError, "the server answered with an error: \(value.jsonText)")
        }
        let code = object["code"].map { $0.jsonText } ?? "?"
        let message = object["message"]?.stringValue ?? ""
        return MCPClientError(.rpcError, "the server answered error \(code): \(message)")
    }

    /// The `result` of a response, or its error thrown.
    static func result(of response: JSONValue) throws(MCPClientError) -> JSONValue {
        guard case .object(let object) = response else {
            throw MCPClientError(.badMessage, "a response must be a JSON object")
        }
        if let error = object["error"] { throw JSONRPC.error(from: error) }
        guard let result = object["result"] else {
            throw MCPClientError(.badMessage, "a response has neither `result` nor `error`")
        }
        return result
    }

    /// Parses one message, mapping parse failures to `mcp-bad-json`.
    package static func parse(_ text: String) throws(MCPClientError) -> JSONValue {
        do { return try JSONParser().parse(text) } catch {
            let shown = text.count > 200 ? String(text.prefix(200)) + "…" : text
            throw MCPClientError(.badJSON, "the server sent a line that is not JSON (\(error)): `\(shown)`")
        }
    }
}

/// A way to exchange JSON-RPC messages with one MCP server.
///
/// ```swift
/// let transport = try StdioTransport(argv: ["mcp-server-time"])
/// let session = MCPSession(transport: transport)
/// ```
public protocol MCPTransport: Sendable {
    /// Sends a request and returns the response with the same `id` (server notifications are skipped, server
    /// requests answered "method not found"), or throws within `timeout`.
    func send(request: JSONValue, id: Int, timeout: Duration) throws(MCPClientError) -> JSONValue
    /// Sends a notification (no response expected).
    func send(notification: JSONValue) throws(MCPClientError)
    /// Stops talking to the server and releases what the transport holds (e.g. ends the child process).
    func close()
    /// Whether the session may try the stateless revision's `server/discover` first (HTTP does; stdio servers
    /// are started for one session and spoken to with `initialize`).
    var supportsDiscovery: Bool { get }
}

extension MCPTransport {
    public var supportsDiscovery: Bool { false }
}
