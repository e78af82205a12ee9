import ScopeGate
import ScopeGateMCPClient
import Testing

@testable import ScopeGateOnboarding

@Suite struct DriftTests {
    static let policy = """
        version: 1
        resource: { id: https://mcp.example.com/mcp }
        scopes:
          read: {}
          write: { implies: [read] }
        tools:
          git_status: read
          git_gone: read
          git_branch:
            actions: { list: read, delete: write }
          git_diff:
            requires: read
            when:
              - arguments: { target: { prefix: "refs/" } }
                requires: write
          "git_stash_*": write
        """

    static func compiled(_ source: String = policy) throws -> CompiledPolicy {
        try PolicyCompiler().compile(source: source, name: "p.yaml").compiled()
    }

    static func codes(_ d: Diagnostics) -> [String] { d.map(\.code.id) }

    @Test func findsUnnamedAndGoneTools() throws {
        let tools = ["git_status", "git_branch", "git_diff", "git_stash_pop", "git_new"].map { MCPTool(name: $0) }
        let findings = DriftCheck.check(policy: try Self.compiled(), tools: tools, snapshot: nil)
        let messages = findings.map(\.message)
        #expect(findings.count == 3, "\(messages)")
        #expect(messages.contains { $0.contains("`git_new`") && $0.contains("unknown_tool") })
        #expect(messages.contains { $0.contains("`git_stash_pop`") && $0.contains("`git_stash_*`") })
        #expect(messages.contains { $0.contains("`git_gone`") && $0.contains("no longer lists") })
    }

    @Test func catchAllAndPublicGlobsAreErrors() throws {
        let source = """
            version: 1
            resource: { id: https://mcp.example.com/mcp }
            scopes: { read: {} }
            tools:
              "*": read
              "debug_*": { public: true }
            """
        let tools = [MCPTool(name: "anything"), MCPTool(name: "debug_dump")]
        let findings = DriftCheck.check(policy: try Self.compiled(source), tools: tools, snapshot: nil)
        #expect(Self.codes(findings) == ["SGD02", "SGD02"])
        #expect(findings.allSatisfy { $0.severity == .error })
    }

    @Test func riskRaisedSinceTheSnapshot() throws {
        let before = [
            MCPTool(name: "git_status", annotations: .init(readOnlyHint: true)),
            MCPTool(name: "git_diff", annotations: .init(readOnlyHint: true)),
        ]
        let after = [
            MCPTool(name: "git_status", annotations: .init(readOnlyHint: false, destructiveHint: true)),
            MCPTool(name: "git_diff", annotations: .init(readOnlyHint: true)),
        ]
        let findings = DriftCheck.check(policy: try Self.compiled(), tools: after, snapshot: before)
        let raised = findings.filter { $0.code == DriftCheck.riskRaised }
        #expect(raised.count == 1)
        #expect(raised.first?.message.contains("was read-only in the snapshot and is now destructive") == true)
    }

    @Test func schemaChangesToReliedArguments() throws {
        func tool(_ name: String, _ schema: String) throws -> MCPTool {
            try #require(ToolListReader.parse(text: "[{\"name\":\"\(name)\",\"inputSchema\":\(schema)}]").first)
        }
        let before = [
            try tool("git_branch", #"{"properties":{"action":{"type":"string","enum":["list","delete"]}}}"#),
            try tool("git_diff", #"{"properties":{"target":{"type":"string"},"context":{"type":"integer"}}}"#),
        ]
        let after = [
            try tool("git_branch", #"{"properties":{"action":{"type":"string","enum":["list","delete","rename"]}}}"#),
            // `context` changed too, but no rule relies on it.
            try tool("git_diff", #"{"properties":{"target":{"type":"array"},"context":{"type":"string"}}}"#),
        ]
        let findings = DriftCheck.check(policy: try Self.compiled(), tools: after, snapshot: before)
        let changed = findings.filter { $0.code == DriftCheck.schemaChanged }.map(\.message)
        #expect(changed.count == 2, "\(changed)")
        #expect(changed.contains { $0.contains("`git_branch`") && $0.contains("`action`") })
        #expect(changed.contains { $0.contains("`git_diff`") && $0.contains("`target`") })
    }

    @Test func snapshotRoundTrips() throws {
        let tools = try Fixtures.tools(Fixtures.gitLike)
        let text = ToolSnapshot.render(tools)
        #expect(try ToolListReader.parse(text: text) == tools.sorted { $0.name < $1.name })
        #expect(ToolSnapshot.render(tools.reversed()) == text)
    }
}
