import ScopeGate
import ScopeGateMCPClient

/// A first policy drafted from a server's tools: a read, write and admin scope per tool family (see
/// ``ToolFamilies``), each tool mapped by its annotations (``ToolAccess``), enum-typed action arguments turned into
/// `actions:`, and a test file with an allowed and a denied case for every tool and action.
///
/// ```swift
/// let draft = try PolicyDraft(tools: tools, prefix: "mcp:tools:git", serverName: "mcp-server-git")
/// try draft.policyYAML.write(toFile: "policies/git.yaml", atomically: true, encoding: .utf8)
/// try draft.testsYAML.write(toFile: "policies/tests/git.tests.yaml", atomically: true, encoding: .utf8)
/// ```
///
/// The output depends only on the tools (sorted by name) and the options, so drafting twice gives the same bytes.
public struct PolicyDraft: Sendable {
    /// Why a draft could not be made.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// One tool as drafted.
    public struct Tool: Sendable, Hashable {
        public var source: MCPTool
        public var access: ToolAccess
        /// The scope prefix of its family (`mcp:tools:github:issues`, or the server prefix).
        public var familyPrefix: String
        /// The argument naming the action, when the schema offers an enum of action names.
        public var actionArgument: String?
        /// Each action value with the access it is given.
        public var actions: [(name: String, access: ToolAccess)]
        public var basic: Bool

        public static func == (a: Tool, b: Tool) -> Bool {
            a.source == b.source && a.access == b.access && a.familyPrefix == b.familyPrefix
                && a.actionArgument == b.actionArgument && a.basic == b.basic
                && a.actions.map(\.name) == b.actions.map(\.name) && a.actions.map(\.access) == b.actions.map(\.access)
        }
        public func hash(into h: inout Hasher) { h.combine(source.name) }

        /// The scope a call needs at `access` in this tool's family.
        public func scope(_ access: ToolAccess) -> String { "\(familyPrefix):\(access.rawValue)" }
    }

    public let prefix: String
    public let serverName: String
    /// Drafted tools, sorted by name.
    public let tools: [Tool]
    /// Tools left out, with why (names a policy cannot hold, duplicates).
    public let skipped: [(name: String, reason: String)]

    /// Drafts from `tools`. `prefix` is the scope prefix (`mcp:tools:NAME`); `serverName` is used in comments.
    public init(tools input: [MCPTool], prefix: String, serverName: String) throws(Failure) {
        guard !prefix.isEmpty, !prefix.contains(where: { $0.isWhitespace || $0 == "*" || $0 == "\"" || $0 == "\\" })
        else { throw Failure(message: "the prefix `\(prefix)` is not a valid scope name prefix") }
        self.prefix = prefix
        self.serverName = serverName
        var seen: Set<String> = []
        var kept: [MCPTool] = []
        var skipped: [(name: String, reason: String)] = []
        for tool in input.sorted(by: { $0.name < $1.name }) {
            if tool.name.contains(where: { $0.isWhitespace || $0 == "*" }) {
                skipped.append((tool.name, "a policy tool name cannot contain white space or `*`"))
            } else if !seen.insert(tool.name).inserted {
                skipped.append((tool.name, "listed twice by the server; the first is drafted"))
            } else {
                kept.append(tool)
            }
        }
        guard !kept.isEmpty else { throw Failure(message: "the server lists no tools to draft a policy for") }
        let families = ToolFamilies(kept.map(\.name))
        var tools = kept.map { source in
            let access = ToolAccess(source)
            let family = families.family(of: source.name).map { "\(prefix):\($0)" } ?? prefix
            var tool = Tool(
                source: source, access: access, familyPrefix: family, actionArgument: nil, actions: [], basic: false)
            if let (argument, values) = Self.actionArgument(in: source.inputSchema) {
                tool.actionArgument = argument
                tool.actions = values.map { value in
                    (value, ToolAccess.suggested(byAction: value).map { min($0, access) } ?? access)
                }
            }
            return tool
        }
        // `basic: true` marks the tools a client starts with (`scopes_supported: auto`): the least privileged
        // tools without actions (every tool when all have actions).
        let plain = tools.indices.filter { tools[$0].actions.isEmpty }
        let candidates = plain.isEmpty ? Array(tools.indices) : plain
        if let lowest = candidates.map({ tools[$0].access }).min() {
            for i in candidates where tools[i].access == lowest { tools[i].basic = true }
        }
        self.tools = tools
        self.skipped = skipped
    }

    /// Argument names that usually choose what a tool does, in order of preference.
    static let actionArgumentNames = ["action", "operation", "op", "command", "cmd", "method", "mode", "verb"]

    /// The first action-like argument of an object schema whose type is string with an `enum` of strings.
    static func actionArgument(in schema: JSONValue) -> (String, [String])? {
        guard case .object(let object) = schema, case .object(let properties)? = object["properties"] else {
            return nil
        }
        for name in actionArgumentNames {
            guard case .object(let property)? = properties[name], case .array(let options)? = property["enum"]
            else { continue }
            var values: [String] = []
            for option in options {
                guard case .string(let value) = option, !value.isEmpty else { return nil }
                if !values.contains(value) { values.append(value) }
            }
            if !values.isEmpty { return (name, values) }
        }
        return nil
    }

    /// The scopes the draft defines, per family prefix, with the access levels used in it.
    var familyLevels: [(prefix: String, levels: [ToolAccess])] {
        var levels: [String: Set<ToolAccess>] = [:]
        for tool in tools {
            if tool.actions.isEmpty { levels[tool.familyPrefix, default: []].insert(tool.access) }
            for action in tool.actions { levels[tool.familyPrefix, default: []].insert(action.access) }
        }
        return levels.keys.sorted().map { ($0, (levels[$0] ?? []).sorted()) }
    }
}
