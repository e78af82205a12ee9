import ScopeGate

/// The call a request describes by its headers alone (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`), for a decision
/// service that sees no body (nginx `auth_request`, Caddy `forward_auth`, Envoy `ext_authz` without the body).
///
/// Only the arguments the tool's rule decides on are read: its action argument, its `when:` arguments and those
/// of the selected action's `when:`. Header values are text; each is read as the type its conditions need
/// (see ``HeaderArgumentTypes``). An argument with no header is listed in ``missingHeaders``: the request is
/// then denied, because its absence cannot be told from a header the client did not send.
///
/// ```swift
/// let described = try HeaderOnlyCall.describe(headers, policy: policy)
/// described.call.arguments["limit"]  // .number(500) from `Mcp-Param-Limit: 500`
/// ```
public struct HeaderOnlyCall: Sendable, Hashable {
    public var call: Call
    /// `Mcp-Param-{name}` headers the decision needs but the request lacks.
    public var missingHeaders: [String]

    /// Describes the request. Throws `HeaderMismatch` (400) when `Mcp-Method` is missing, when `Mcp-Name` is
    /// missing for `tools/call`, `prompts/get` or `resources/read`, or when a value does not decode.
    public static func describe(
        _ headers: MCPRequestHeaders, policy: CompiledPolicy, parameterHeaders: ParameterHeaders = .init()
    ) throws(RequestRejection) -> HeaderOnlyCall {
        guard let method = headers.method, !method.isEmpty else {
            throw RequestRejection(.headerMismatch, "the required `Mcp-Method` header is missing")
        }
        let named = method == "tools/call" || method == "prompts/get" || method == "resources/read"
        let name = try headers.name()
        if named, name == nil {
            throw RequestRejection(.headerMismatch, "the required `Mcp-Name` header is missing for `\(method)`")
        }
        guard named, let name else { return HeaderOnlyCall(call: Call(method: method), missingHeaders: []) }
        guard method == "tools/call", let index = policy.toolRuleIndex(for: name) else {
            return HeaderOnlyCall(call: Call(method: method, name: name), missingHeaders: [])
        }
        let rule = policy.model.tools[index]
        var arguments: [String: JSONValue] = [:]
        var missing: [String] = []
        var action: String?
        if let argument = rule.actionArgument, rule.actions != nil {
            let header = parameterHeaders.header(tool: name, argument: argument)
            if let text = try headers.parameter(header) {
                action = text
                arguments[argument] = .string(text)
            } else {
                missing.append("Mcp-Param-\(header)")
            }
        }
        try HeaderArgumentTypes.forEachUse(ofRule: index, policy: policy, action: action, allActions: false) {
            (argument, _, _) throws(RequestRejection) in
            guard arguments[argument] == nil else { return }
            let header = parameterHeaders.header(tool: name, argument: argument)
            guard let text = try headers.parameter(header) else {
                let label = "Mcp-Param-\(header)"
                if !missing.contains(label) { missing.append(label) }
                return
            }
            let type = HeaderArgumentTypes.type(ofArgument: argument, rule: index, policy: policy, action: action)
            arguments[argument] = HeaderArgumentTypes.value(text, as: type)
        }
        return HeaderOnlyCall(call: Call(method: method, name: name, arguments: arguments), missingHeaders: missing)
    }
}
