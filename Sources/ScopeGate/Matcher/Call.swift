/// An MCP request to authorize: the JSON-RPC method, the tool/prompt name or resource URI, and arguments.
///
/// ```swift
/// let call = Call.tool("delete_file", arguments: ["path": .string("/tmp/x")])
/// let list = Call(method: "tools/list")
/// let read = Call(method: "resources/read", name: "clients://acme")
/// ```
public struct Call: Sendable, Hashable {
    /// JSON-RPC method, e.g. `tools/call`.
    public var method: String
    /// Tool name (`tools/call`), resource URI (`resources/read`), prompt name (`prompts/get`), else empty.
    public var name: String
    /// Call arguments (tool arguments or prompt arguments).
    public var arguments: [String: JSONValue]

    /// A request of any method.
    public init(method: String, name: String = "", arguments: [String: JSONValue] = [:]) {
        self.method = method
        self.name = name
        self.arguments = arguments
    }

    /// A `tools/call` request.
    public static func tool(_ name: String, arguments: [String: JSONValue] = [:]) -> Call {
        Call(method: "tools/call", name: name, arguments: arguments)
    }
}
