import Foundation
import ScopeGate

/// Why talking to an MCP server failed: a stable code plus a message for people.
///
/// ```swift
/// do { tools = try session.listTools() } catch { print("\(error.code.id): \(error.message)") }
/// ```
public struct MCPClientError: CodedError, Hashable {
    /// A stable identifier of the kind of failure (an open set: new codes may be added).
    public typealias Code = ErrorCode<MCPClientError>

    public let code: Code
    /// Lowercase, no final period, names in backticks.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == MCPClientError {
    /// The server process could not be started.
    public static let spawnFailed = Self("mcp-spawn-failed")
    /// The server process exited (or closed its output) before answering.
    public static let childExited = Self("mcp-child-exited")
    /// No answer within the time allowed; the server process was killed.
    public static let timeout = Self("mcp-timeout")
    /// A message or file was not the JSON expected.
    public static let badJSON = Self("mcp-bad-json")
    /// The JSON was well formed but not the shape MCP defines (e.g. a tool without a name).
    public static let badMessage = Self("mcp-bad-message")
    /// The server answered with a JSON-RPC error.
    public static let rpcError = Self("mcp-rpc-error")
    /// A message was larger than the limit.
    public static let tooLarge = Self("mcp-too-large")
    /// Writing to or reading from the server failed.
    public static let io = Self("mcp-io")
    /// An HTTP transport failure (status, content type, network).
    public static let http = Self("mcp-http")
}
