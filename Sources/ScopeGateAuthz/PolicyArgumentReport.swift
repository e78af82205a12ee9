import ScopeGate
import ScopeGateRequestAuthorization

/// The start-up report of `scopegate authz`: the arguments its policy decides on, tool rule by tool rule, with
/// the header each must arrive in. A decision without the body sees an argument only when the server marks it
/// with `x-mcp-header` in the tool's `inputSchema`, so that clients mirror it into `Mcp-Param-{name}`.
///
/// ```swift
/// print(PolicyArgumentReport(policy: policy).text)
/// // spend: amount (number, when) → Mcp-Param-amount; urgent (boolean, when) → Mcp-Param-urgent
/// ```
public struct PolicyArgumentReport: Sendable {
    public var tools: [HeaderArgumentTypes.Tool]
    let parameterHeaders: ParameterHeaders

    public init(policy: CompiledPolicy, parameterHeaders: ParameterHeaders = .init()) {
        tools = HeaderArgumentTypes.arguments(of: policy)
        self.parameterHeaders = parameterHeaders
    }

    /// One line per tool rule that reads arguments, or one line saying none does.
    public var text: String {
        guard !tools.isEmpty else {
            return "the policy decides on no tool arguments: `Mcp-Method` and `Mcp-Name` are enough\n"
        }
        var out = "arguments the policy decides on (mark each with `x-mcp-header` in the tool's inputSchema):\n"
        for tool in tools {
            let arguments = tool.arguments.map { argument in
                let header = parameterHeaders.header(tool: tool.tool, argument: argument.name)
                let uses = argument.usedBy.joined(separator: ", ")
                return "\(argument.name) (\(argument.type.rawValue); \(uses)) → Mcp-Param-\(header)"
            }
            out += "  \(tool.tool): " + arguments.joined(separator: "; ") + "\n"
        }
        return out
    }
}
