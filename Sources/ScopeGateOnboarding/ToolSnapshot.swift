import ScopeGate
import ScopeGateMCPClient

/// A committed record of a server's tools (`tools.lock.json`) that `scopegate drift` compares against: every
/// tool's name, annotations and input schema, sorted by name, one tool per line so reviews show changed tools.
///
/// ```swift
/// try ToolSnapshot.render(tools).write(toFile: "tools.lock.json", atomically: true, encoding: .utf8)
/// let old = try ToolSnapshot.read(path: "tools.lock.json")
/// ```
public enum ToolSnapshot {
    /// The snapshot text: `{"v":1,"tools":[…]}` with sorted keys.
    public static func render(_ tools: [MCPTool]) -> String {
        let lines = tools.sorted { $0.name < $1.name }.map { "  " + $0.json.jsonText }
        return "{\"v\":1,\"tools\":[\n" + lines.joined(separator: ",\n") + "\n]}\n"
    }

    /// Reads a snapshot (any form ``ToolListReader`` accepts).
    public static func read(path: String) throws(MCPClientError) -> [MCPTool] {
        try ToolListReader.read(path: path)
    }
}
