import ScopeGate

extension PolicyDraft {
    /// The drafted test file (docs/policy-tests.md): for each tool, and each action, one case allowed with the
    /// scope it was given and one denied with one level less (or nothing), naming what is missing.
    public var testsYAML: String {
        var out = """
            # Drafted by `scopegate init` for the tools of `\(YAMLText.commentText(serverName))`: every tool (and action)
            # is allowed with its scope and denied one level below it. Run:
            #   scopegate test --policy POLICY THIS_FILE --coverage

            cases:

            """
        for tool in tools {
            if tool.actions.isEmpty {
                out += cases(tool, action: nil, access: tool.access)
            } else {
                for action in tool.actions { out += cases(tool, action: action.name, access: action.access) }
            }
        }
        return out
    }

    private func cases(_ tool: Tool, action: String?, access: ToolAccess) -> String {
        let levels = familyLevels.first { $0.prefix == tool.familyPrefix }?.levels ?? []
        let below = levels.last { $0 < access }
        let scope = tool.scope(access)
        let label = tool.source.name + (action.map { " \($0)" } ?? "")
        var head = "    tool: \(YAMLText.scalar(tool.source.name))\n"
        if let action { head += "    action: \(YAMLText.scalar(action))\n" }
        var out = "  - name: \(YAMLText.quoted("\(label) is allowed with \(scope)"))\n"
        out += "    scopes: [\(scope)]\n" + head + "    expect: { allowed: true }\n"
        let lower = below.map { [tool.scope($0)] } ?? []
        let lowerText = below.map { "with only \(tool.scope($0))" } ?? "without scopes"
        out += "  - name: \(YAMLText.quoted("\(label) is denied \(lowerText)"))\n"
        out += "    scopes: [\(lower.joined(separator: ", "))]\n" + head
        out += "    expect: { allowed: false, reason: missing_scope, missing: [\(scope)] }\n"
        return out
    }
}
