import ScopeGate

/// Which tool arguments a server mirrors into `Mcp-Param-{name}` headers: the `x-mcp-header` annotations of
/// the tools' `inputSchema` (2026-07-28 Streamable HTTP, "Custom Headers from Tool Parameters"). Learned from a
/// `tools/list` result; without it a header `Mcp-Param-X` is taken to mirror the top-level argument named `X`
/// (case-insensitively).
///
/// ```swift
/// var known = ParameterHeaders()
/// known.learn(fromToolsList: result)         // the `result` object of a tools/list response
/// known.path(tool: "execute_sql", header: "region")  // ["region"]
/// ```
public struct ParameterHeaders: Sendable, Hashable {
    /// By tool name: lowercased header name → property path of the argument.
    public var tools: [String: [String: [String]]]

    public init(tools: [String: [String: [String]]] = [:]) { self.tools = tools }

    /// Records the annotations of every tool of a `tools/list` result (replacing what was known of each).
    public mutating func learn(fromToolsList result: JSONValue) {
        guard case .object(let object) = result, case .array(let list)? = object["tools"] else { return }
        for tool in list {
            guard case .object(let t) = tool, case .string(let name)? = t["name"] else { continue }
            var headers: [String: [String]] = [:]
            if let schema = t["inputSchema"] { Self.collect(schema, path: [], into: &headers, depth: 0) }
            tools[name] = headers
        }
    }

    /// Walks `properties` chains only (the statically reachable properties the specification allows).
    static func collect(_ schema: JSONValue, path: [String], into headers: inout [String: [String]], depth: Int) {
        guard depth < 16, case .object(let object) = schema, case .object(let properties)? = object["properties"]
        else { return }
        for (key, property) in properties {
            guard case .object(let p) = property else { continue }
            if case .string(let header)? = p["x-mcp-header"], !header.isEmpty {
                headers[header.lowercased()] = path + [key]
            }
            collect(property, path: path + [key], into: &headers, depth: depth + 1)
        }
    }

    /// Whether the server's annotations for `tool` are known.
    public func knows(tool: String) -> Bool { tools[tool] != nil }

    /// The argument path a header mirrors: the learned annotation, else the top-level argument of that name
    /// (matched case-insensitively against `arguments` when given).
    public func path(tool: String, header: String, arguments: [String: JSONValue] = [:]) -> [String] {
        let lower = header.lowercased()
        if let known = tools[tool], let path = known[lower] { return path }
        if let exact = arguments.keys.first(where: { $0.lowercased() == lower }) { return [exact] }
        return [header]
    }

    /// The header that mirrors the top-level argument `argument` of `tool`: the learned annotation, else the
    /// argument's own name.
    public func header(tool: String, argument: String) -> String {
        if let known = tools[tool], let entry = known.first(where: { $0.value == [argument] }) { return entry.key }
        return argument
    }
}
