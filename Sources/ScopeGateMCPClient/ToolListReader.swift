import Foundation
import ScopeGate

/// Reads a saved `tools/list` result: `{"tools": [...]}`, a whole JSON-RPC response whose `result` is that, or a
/// bare array of tools.
///
/// ```swift
/// let tools = try ToolListReader.read(path: "tools.json")
/// ```
public enum ToolListReader {
    /// The largest file accepted, in bytes.
    public static let maxBytes = 16 << 20

    /// Reads and parses the file at `path`.
    public static func read(path: String) throws(MCPClientError) -> [MCPTool] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw MCPClientError(.io, "cannot read `\(path)`")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxBytes + 1) ?? Data() } catch {
            throw MCPClientError(.io, "cannot read `\(path)`: \(error.localizedDescription)")
        }
        guard data.count <= maxBytes else {
            throw MCPClientError(.tooLarge, "`\(path)` is larger than \(maxBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MCPClientError(.badJSON, "`\(path)` is not UTF-8")
        }
        return try parse(text: text)
    }

    /// Parses the text of a tool list in any of the three forms.
    public static func parse(text: String) throws(MCPClientError) -> [MCPTool] {
        let value: JSONValue
        do { value = try JSONParser().parse(text) } catch {
            throw MCPClientError(.badJSON, "not valid JSON: \(error)")
        }
        return try tools(in: value)
    }

    /// The tools of a parsed value in any of the three forms.
    public static func tools(in value: JSONValue) throws(MCPClientError) -> [MCPTool] {
        switch value {
        case .array(let items):
            var tools: [MCPTool] = []
            for item in items { tools.append(try MCPTool(json: item)) }
            return tools
        case .object(let object):
            if let result = object["result"] { return try tools(in: result) }
            if let error = object["error"] { throw JSONRPC.error(from: error) }
            guard let list = object["tools"] else {
                throw MCPClientError(.badMessage, "expected `{\"tools\": [...]}`, a JSON-RPC response or an array")
            }
            guard case .array = list else { throw MCPClientError(.badMessage, "`tools` must be an array") }
            return try tools(in: list)
        default:
            throw MCPClientError(.badMessage, "expected `{\"tools\": [...]}`, a JSON-RPC response or an array")
        }
    }
}
