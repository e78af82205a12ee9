import ScopeGateMCPClient

/// How `scopegate init` groups tools into families, each with its own read, write and admin scopes.
///
/// A family is a **leading name segment** (the text before the first `_`, `-`, `.` or `/`) shared by at least two
/// tools, when the segment is not a verb (`get_`, `list_`, … say what a tool does, not what it works on) and the
/// tools split into at least two such families (`issues_*`, `pulls_*`, `repos_*`). Otherwise — one shared
/// prefix such as `git_` for every tool, or names without a common noun — the whole server is one family, and
/// its scopes are named by the prefix alone. Tools left over when there are families go to the server family.
///
/// ```swift
/// let families = ToolFamilies(tools.map(\.name))
/// families.family(of: "issues_create")   // "issues" (or nil: the server family)
/// ```
public struct ToolFamilies: Sendable, Hashable {
    /// Family name by tool name; tools absent here belong to the server family.
    public let byTool: [String: String]

    public init(_ names: [String]) {
        var groups: [String: [String]] = [:]
        for name in names {
            guard let segment = Self.leadingSegment(name), !ToolAccess.readVerbs.contains(segment),
                !ToolAccess.destructiveVerbs.contains(segment), !Self.otherVerbs.contains(segment)
            else { continue }
            groups[segment, default: []].append(name)
        }
        let families = groups.filter { $0.value.count >= 2 }
        guard families.count >= 2 else {
            byTool = [:]
            return
        }
        var byTool: [String: String] = [:]
        for (family, tools) in families {
            for tool in tools { byTool[tool] = family }
        }
        self.byTool = byTool
    }

    /// The family of a tool, or `nil` for the server family.
    public func family(of tool: String) -> String? { byTool[tool] }

    /// The lowercased text before the first separator, when there is one and it is a plain word.
    static func leadingSegment(_ name: String) -> String? {
        guard let end = name.firstIndex(where: { "_-./".contains($0) }), end > name.startIndex else { return nil }
        let segment = name[..<end].lowercased()
        guard segment.allSatisfy({ $0.isLetter || $0.isNumber }) else { return nil }
        return segment
    }

    static let otherVerbs: Set<String> = [
        "create", "update", "set", "add", "put", "post", "write", "edit", "run", "execute", "exec", "start", "stop",
        "convert", "send", "make", "new", "open", "close", "move", "copy", "rename", "merge", "apply",
        "upload", "download", "navigate", "click", "type", "call", "invoke", "do", "save", "load", "import", "export",
        "sync", "test", "enable", "disable", "install", "cancel", "approve", "submit", "is", "has",
    ]
}
