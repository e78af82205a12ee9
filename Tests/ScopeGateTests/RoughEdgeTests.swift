import Testing

@testable import ScopeGate

/// Compiles a policy from text, requiring it free of errors.
private func compile(_ source: String) throws -> CompiledPolicy {
    try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source, name: "edge.yaml").compiled()
}

/// Diagnostics of a policy text.
private func lint(_ source: String) -> Diagnostics {
    PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source, name: "edge.yaml").diagnostics
}

/// The rough edges a new user hits (issue 19, section 4), each pinned by a test.
@Suite struct RoughEdgeTests {
    static let orgPolicy = """
        version: 1
        scopes:
          read:org: {}
          write:org: { implies: [read:org] }
          admin:org: { implies: [write:org], risk: admin }
          repo: {}
        tools:
          list_members: read:org
          push: repo
        """

    @Test("--explain shows the implication path from the granted scope")
    func explainShowsImplicationPath() throws {
        let policy = try compile(Self.orgPolicy)
        let explanation = policy.explain(.tool("list_members"), grant: policy.grant(["admin:org"]))
        let part = try #require(explanation.parts.first)
        #expect(part.satisfied == 0)
        #expect(part.implied == [["admin:org", "write:org", "read:org"]])
        #expect(
            explanation.lines.contains(
                "requires: [read:org] — satisfied by [read:org] via admin:org ⇒ write:org ⇒ read:org"),
            "\(explanation.lines)")
        // Granted directly: no path.
        let direct = policy.explain(.tool("list_members"), grant: policy.grant(["read:org", "admin:org"]))
        #expect(direct.parts.first?.implied == [])
        #expect(direct.lines.contains("requires: [read:org] — satisfied by [read:org]"), "\(direct.lines)")
    }

    @Test("the implication path goes through a wildcard's cover")
    func implicationPathThroughWildcard() throws {
        let policy = try compile(
            """
            version: 1
            scopes:
              files:read: {}
              files:write: {}
              "files:*": { risk: sensitive }
            tools:
              read_file: files:read
              write_file: files:write
            """)
        let explanation = policy.explain(.tool("read_file"), grant: policy.grant(["files:*"]))
        #expect(explanation.parts.first?.implied == [["files:*", "files:read"]])
    }

    @Test("a granted scope differing only in case is ignored with a hint")
    func caseMismatchHint() throws {
        let policy = try compile(Self.orgPolicy)
        let grant = policy.grant(["Repo"])
        #expect(!policy.isAllowed(.tool("push"), grant: grant), "scopes are case-sensitive: still denied")
        let ignored = try #require(grant.ignored.first)
        #expect(ignored.why == "unknown_scope")
        #expect(ignored.hint == "did you mean `repo`? scopes are case-sensitive")
        let decision = policy.decide(.tool("push"), grant: grant)
        let record = policy.record(for: decision, call: .tool("push"), grant: grant)
        #expect(
            record.json.contains(
                #"{"scope":"Repo","why":"unknown_scope","hint":"did you mean `repo`? scopes are case-sensitive"}"#),
            "\(record.json)")
        let lines = policy.explain(.tool("push"), grant: grant).lines
        #expect(lines.contains("ignored granted `Repo`: unknown scope; did you mean `repo`? scopes are case-sensitive"))
        // An unknown scope with no case twin gets no hint.
        #expect(policy.grant(["rep"]).ignored.first?.hint == nil)
    }

    @Test("the case hint finds uppercase policy names and honours strip_prefixes")
    func caseHintUppercasePolicy() throws {
        let policy = try compile(
            """
            version: 1
            scopes:
              Files.Read: {}
            tools:
              read_file: Files.Read
            """)
        #expect(
            policy.grant(["files.read"]).ignored.first?.hint == "did you mean `Files.Read`? scopes are case-sensitive")
        let stripped = policy.grant(["api://app/files.READ"], stripPrefixes: ["api://app/"])
        #expect(stripped.ignored.first?.hint == "did you mean `Files.Read`? scopes are case-sensitive")
        #expect(
            policy.isAllowed(
                .tool("read_file"), grant: policy.grant(["api://app/Files.Read"], stripPrefixes: ["api://app/"])))
    }

    @Test("a public catch-all rule is a warning (SG705), in every section")
    func publicCatchAllWarns() throws {
        let base = """
            version: 1
            scopes:
              read:files: {}
            tools:
              read_file: read:files

            """
        for (section, key) in [
            ("tools", "\"*\""), ("tools", "\"**\""), ("methods", "\"*\""), ("resources", "\"*\""), ("prompts", "\"*\""),
        ] {
            let text =
                section == "tools"
                ? base + "  \(key): { public: true }\n" : base + "\(section):\n  \(key): { public: true }\n"
            let hits = lint(text).filter { $0.code == .publicCatchAll }
            #expect(hits.count == 1, "\(section) \(key): \(Array(lint(text)))")
            #expect(hits.first?.severity == .warning)
        }
        // A catch-all with a requirement, or a public glob with a literal part, is fine.
        for rule in ["  \"*\": read:files\n", "  \"debug_*\": { public: true }\n", "  health: { public: true }\n"] {
            #expect(lint(base + rule).filter { $0.code == .publicCatchAll }.isEmpty, "\(rule)")
        }
    }

    @Test("`external: true` scopes are not reported as unused (SG701)")
    func externalScopesAreNotUnused() throws {
        let source = """
            version: 1
            scopes:
              repo: {}
              read:org: { external: true }
              admin:org: { external: true, implies: [read:org] }
              gist: {}
            tools:
              push: repo
            """
        let unused = lint(source).filter { $0.code == .unusedScope }
        #expect(
            unused.map(\.message) == ["scope `gist` unlocks nothing: no requirement names it or anything it implies"])
        let policy = try compile(source)
        #expect(policy.model.scopes.filter(\.isExternal).map(\.name) == ["read:org", "admin:org"])
        // An external scope grants as any other.
        #expect(policy.grant(["admin:org"]).ignored.isEmpty)
        // `external` takes a boolean.
        #expect(
            lint(source.replacingOccurrences(of: "external: true, implies", with: "external: yes, implies")).contains {
                $0.code == .wrongType
            })
    }

    @Test("built-in methods need only a valid token, `server/discover` included; a `methods:` rule overrides them")
    func builtInMethods() throws {
        let policy = try compile(Self.orgPolicy)
        let none = policy.grant([])
        for method in [
            "initialize", "ping", "server/discover", "tools/list", "resources/list",
            "resources/templates/list", "prompts/list", "notifications/initialized",
        ] {
            #expect(policy.isAllowed(Call(method: method), grant: none), "\(method)")
            #expect(policy.decide(Call(method: method), grant: none).allowed, "\(method)")
        }
        #expect(policy.decide(Call(method: "server/other"), grant: none).reason == .unknownMethod)
        let guarded = try compile(Self.orgPolicy + "\nmethods:\n  server/discover: read:org\n")
        #expect(!guarded.isAllowed(Call(method: "server/discover"), grant: none))
        #expect(guarded.isAllowed(Call(method: "server/discover"), grant: guarded.grant(["read:org"])))
    }
}
