import ScopeGate
import ScopeGateMCPClient

extension PolicyDraft {
    /// The drafted policy file. It passes `scopegate lint --strict` as written; lines marked `review:` are
    /// placeholders or guesses to check before enforcing.
    public var policyYAML: String {
        var out = """
            # Drafted by `scopegate init` from the tools of `\(YAMLText.commentText(serverName))` (\(tools.count) tools).
            # Scopes: per tool family, `read` (tools with readOnlyHint: true), `write` (not read-only and
            # destructiveHint: false; implies read) and `admin` (destructive or unannotated; risk: admin; implies
            # write). A family is a leading name segment shared by several tools when the server has several such
            # groups; otherwise the server is one family named by the prefix `\(prefix)`.
            # Review every line marked `review:` before enforcing, then run `scopegate test` on the drafted tests.

            version: 1

            resource:                                    # this MCP server as an OAuth protected resource (RFC 9728)
              id: https://mcp.example.com/mcp            # review: the URL clients connect to (the token audience)
              authorization_servers: [https://auth.example.com]   # review: your authorization server
              scopes_supported: auto                     # the least-privilege scopes of the tools marked `basic: true`

            tokens:                                      # review: how bearer tokens are validated (docs/tokens.md)
              issuers:
                - issuer: https://auth.example.com       # review: the `iss` of your tokens; keys are discovered from it
                  algorithms: [RS256, ES256]             # allow-list of signature algorithms
              # audiences default to resource.id; set `require_typ: at+jwt` if your server issues RFC 9068 tokens


            """
        out += skippedComment
        out += "scopes:\n"
        for (family, levels) in familyLevels {
            let label = family == prefix ? "`\(serverName)`" : "the `\(family.split(separator: ":").last ?? "")` tools"
            for level in levels {
                out += "  \(family):\(level.rawValue):\n"
                switch level {
                case .read: out += "    description: \(YAMLText.quoted("Read-only tools of \(label)"))\n"
                case .write: out += "    description: \(YAMLText.quoted("Tools of \(label) that change state"))\n"
                case .admin:
                    out += "    description: \(YAMLText.quoted("Destructive or unannotated tools of \(label)"))\n"
                    out += "    risk: admin\n"
                }
                if let below = levels.last(where: { $0 < level }) {
                    out += "    implies: [\(family):\(below.rawValue)]\n"
                }
            }
        }
        out += "\ntools:\n"
        for tool in tools { out += render(tool) }
        return out
    }

    private var skippedComment: String {
        guard !skipped.isEmpty else { return "" }
        return "# Not drafted (add them by hand):\n"
            + skipped.map { "#   \(YAMLText.commentText($0.name, limit: 60)): \($0.reason)\n" }.joined() + "\n"
    }

    private func render(_ tool: Tool) -> String {
        var out = ""
        for line in annotationComments(tool.source) { out += "  # \(line)\n" }
        out += "  \(YAMLText.scalar(tool.source.name)):\n"
        if let text = tool.source.description ?? tool.source.title, !text.isEmpty {
            out += "    description: \(YAMLText.quoted(YAMLText.commentText(text)))\n"
        }
        if let argument = tool.actionArgument {
            if argument != "action" { out += "    action_argument: \(YAMLText.scalar(argument))\n" }
            out +=
                "    actions:                                   # from the `enum` of `\(argument)` in its input schema\n"
            for action in tool.actions {
                out += "      \(YAMLText.scalar(action.name)): \(tool.scope(action.access))"
                if action.access != tool.access { out += "   # review: \(action.access.rawValue) by its name" }
                out += "\n"
            }
        } else {
            out += "    requires: \(tool.scope(tool.access))\n"
        }
        if tool.basic { out += "    basic: true\n" }
        return out
    }

    /// What the tool's annotations say, and what the specification's defaults make of what they leave out.
    func annotationComments(_ tool: MCPTool) -> [String] {
        guard let a = tool.annotations else {
            return [
                "unannotated: the MCP specification's default for a tool without annotations is destructive "
                    + "(and open-world), so it needs the admin scope"
            ]
        }
        var lines: [String] = []
        if a.readOnlyHint == true {
            lines.append("readOnlyHint: true")
        } else if let destructive = a.destructiveHint {
            lines.append("readOnlyHint: \(a.readOnlyHint.map(String.init) ?? "unset"), destructiveHint: \(destructive)")
        } else {
            lines.append(
                "destructiveHint is unset: the MCP specification's default for a tool that is not read-only is "
                    + "destructive, so it needs the admin scope")
        }
        switch a.openWorldHint {
        case true?: lines.append("openWorldHint: true: it reaches outside the server (the web, other systems)")
        case false?: lines.append("openWorldHint: false: it works only on the server's own data")
        case nil: lines.append("openWorldHint is unset: the specification's default is open-world")
        }
        return lines
    }
}
