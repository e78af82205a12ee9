import ScopeGate
import ScopeGateMCPClient

/// Tool lists shaped like real servers' `tools/list` results.
enum Fixtures {
    /// Like mcp-server-git: one `git_` prefix, read-only and destructive tools, one unannotated.
    static let gitLike = """
        {"tools":[
          {"name":"git_status","description":"Shows the working tree status","inputSchema":{"type":"object","properties":{"repo_path":{"type":"string"}},"required":["repo_path"]},"annotations":{"readOnlyHint":true,"openWorldHint":false}},
          {"name":"git_log","inputSchema":{"type":"object","properties":{"repo_path":{"type":"string"},"max_count":{"type":"integer"}}},"annotations":{"readOnlyHint":true}},
          {"name":"git_add","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":false,"destructiveHint":false}},
          {"name":"git_reset","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":false,"destructiveHint":true}},
          {"name":"git_commit","inputSchema":{"type":"object"}},
          {"name":"git_branch","inputSchema":{"type":"object","properties":{"action":{"type":"string","enum":["list","create","delete"]}},"required":["action"]},"annotations":{"readOnlyHint":false,"destructiveHint":true}}
        ]}
        """

    /// Like GitHub's server: several noun prefixes, verbs first for some.
    static let githubNames = [
        "issues_list", "issues_create", "issues_update", "pulls_list", "pulls_merge", "repos_get", "get_me",
        "search_code",
    ]

    static func tools(_ text: String) throws -> [MCPTool] { try ToolListReader.parse(text: text) }
}
