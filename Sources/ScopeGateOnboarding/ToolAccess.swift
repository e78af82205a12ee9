import ScopeGateMCPClient

/// The access level a drafted policy gives a tool, from its annotations.
///
/// ```swift
/// ToolAccess(MCPTool(name: "git_status", annotations: .init(readOnlyHint: true)))   // .read
/// ToolAccess(MCPTool(name: "git_reset"))                                            // .admin (unannotated)
/// ```
public enum ToolAccess: String, Sendable, Hashable, CaseIterable, Comparable {
    /// `readOnlyHint: true`.
    case read
    /// Not read-only, `destructiveHint: false`.
    case write
    /// Not read-only and `destructiveHint: true` or absent: the MCP specification's default is destructive.
    case admin

    public init(_ tool: MCPTool) {
        if tool.isReadOnly {
            self = .read
        } else if tool.isDestructive {
            self = .admin
        } else {
            self = .write
        }
    }

    public static func < (lhs: ToolAccess, rhs: ToolAccess) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }

    /// The access an action value suggests by its verb, or `nil` when the name says nothing.
    static func suggested(byAction name: String) -> ToolAccess? {
        let verb = name.lowercased().split(whereSeparator: { !$0.isLetter }).first.map(String.init) ?? ""
        if readVerbs.contains(verb) { return .read }
        if destructiveVerbs.contains(verb) { return .admin }
        return nil
    }

    static let readVerbs: Set<String> = [
        "get", "list", "read", "view", "show", "search", "find", "describe", "status", "info", "query", "fetch",
        "count", "check", "inspect", "stat", "log", "diff", "lookup", "ls", "cat",
    ]
    static let destructiveVerbs: Set<String> = [
        "delete", "remove", "rm", "drop", "destroy", "purge", "reset", "wipe", "truncate", "kill", "erase", "revoke",
        "force",
    ]
}
