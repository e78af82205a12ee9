import Foundation
import ScopeGate
import ScopeGateMCPClient
import Testing

@testable import ScopeGateOnboarding

@Suite struct DraftTests {
    static func draft(_ text: String = Fixtures.gitLike) throws -> PolicyDraft {
        try PolicyDraft(tools: Fixtures.tools(text), prefix: "mcp:tools:git", serverName: "mcp-server-git")
    }

    @Test func accessFollowsAnnotations() throws {
        let draft = try Self.draft()
        let access = Dictionary(uniqueKeysWithValues: draft.tools.map { ($0.source.name, $0.access) })
        #expect(access["git_status"] == .read)
        #expect(access["git_log"] == .read)
        #expect(access["git_add"] == .write)
        #expect(access["git_reset"] == .admin)
        #expect(access["git_commit"] == .admin)  // unannotated: destructive by the specification's default
    }

    @Test func draftPassesStrictLint() throws {
        let result = PolicyCompiler().compile(source: try Self.draft().policyYAML, name: "git.yaml")
        let problems = result.diagnostics.filter { $0.severity >= .warning }
        #expect(problems.isEmpty, "\(problems)")
        #expect(result.model != nil)
    }

    @Test func draftedTestsPassWithFullCoverage() throws {
        let draft = try Self.draft()
        let policy = try PolicyCompiler().compile(source: draft.policyYAML, name: "git.yaml").compiled()
        let file = try PolicyTestParser.parse(source: draft.testsYAML, path: "git.tests.yaml")
        var runner = PolicyTestRunner(policy: policy)
        let results = runner.run(file)
        let failed = results.filter { !$0.passed }
        #expect(results.count == file.cases.count)
        #expect(failed.isEmpty, "\(failed.map(\.failures))")
        #expect(Set(file.cases.map(\.tool)) == Set(draft.tools.map(\.source.name)))
        #expect(runner.coverage.percent == 100)
    }

    @Test func policyNamesEveryToolWithItsScope() throws {
        let yaml = try Self.draft().policyYAML
        let model = try #require(PolicyCompiler().compile(source: yaml, name: "git.yaml").model)
        func requirement(_ tool: String) -> [[String]]? {
            model.toolIndex[tool].flatMap { model.tools[$0].requirement?.clauses }
        }
        #expect(requirement("git_status") == [["mcp:tools:git:read"]])
        #expect(requirement("git_add") == [["mcp:tools:git:write"]])
        #expect(requirement("git_commit") == [["mcp:tools:git:admin"]])
        #expect(model.scope("mcp:tools:git:admin")?.risk == .admin)
        #expect(model.scope("mcp:tools:git:write")?.implies == ["mcp:tools:git:read"])
        #expect(yaml.contains("the MCP specification's default for a tool without annotations is destructive"))
        #expect(yaml.contains("openWorldHint: false"))
    }

    @Test func enumActionArgumentsBecomeActions() throws {
        let yaml = try Self.draft().policyYAML
        let model = try #require(PolicyCompiler().compile(source: yaml, name: "git.yaml").model)
        let rule = try #require(model.toolIndex["git_branch"].map { model.tools[$0] })
        let actions = Dictionary(uniqueKeysWithValues: (rule.actions ?? []).map { ($0.name, $0.requirement?.clauses) })
        #expect(actions["list"] == [["mcp:tools:git:read"]])  // downgraded by its name, marked review:
        #expect(actions["create"] == [["mcp:tools:git:admin"]])
        #expect(actions["delete"] == [["mcp:tools:git:admin"]])
    }

    @Test func outputIsDeterministic() throws {
        let tools = try Fixtures.tools(Fixtures.gitLike)
        let a = try PolicyDraft(tools: tools, prefix: "mcp:tools:git", serverName: "git")
        let b = try PolicyDraft(tools: tools.reversed(), prefix: "mcp:tools:git", serverName: "git")
        #expect(a.policyYAML == b.policyYAML)
        #expect(a.testsYAML == b.testsYAML)
    }

    @Test func namesAPolicyCannotHoldAreSkipped() throws {
        let draft = try Self.draft(
            #"[{"name":"ok","annotations":{"readOnlyHint":true}},{"name":"bad*glob"},{"name":"ok"}]"#)
        #expect(draft.tools.map(\.source.name) == ["ok"])
        #expect(draft.skipped.map(\.name) == ["bad*glob", "ok"])
        #expect(throws: PolicyDraft.Failure.self) { try Self.draft("[]") }
    }

    @Test func familiesAreSharedNounPrefixes() {
        let families = ToolFamilies(Fixtures.githubNames)
        #expect(families.family(of: "issues_create") == "issues")
        #expect(families.family(of: "pulls_merge") == "pulls")
        #expect(families.family(of: "repos_get") == nil)  // a family of one is the server's
        #expect(families.family(of: "get_me") == nil)  // a verb is not a family
        #expect(ToolFamilies(["git_status", "git_log", "git_add"]).byTool.isEmpty)  // one prefix: one family
    }

    @Test func familiesGetTheirOwnScopesAndTheDraftStillLints() throws {
        let tools = Fixtures.githubNames.map {
            MCPTool(name: $0, annotations: .init(readOnlyHint: $0.contains("list") || $0.contains("get")))
        }
        let draft = try PolicyDraft(tools: tools, prefix: "mcp:tools:github", serverName: "github")
        let result = PolicyCompiler().compile(source: draft.policyYAML, name: "github.yaml")
        #expect(result.diagnostics.filter { $0.severity >= .warning }.isEmpty)
        #expect(result.model?.scope("mcp:tools:github:issues:read") != nil)
        #expect(result.model?.scope("mcp:tools:github:read") != nil)  // get_me, repos_get
    }
}
