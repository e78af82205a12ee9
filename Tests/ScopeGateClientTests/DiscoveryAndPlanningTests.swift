import Foundation
import ScopeGate
import ScopeGateClient
import ScopeGateRequestAuthorization
import ScopeGateTokens
import Testing

let serverPolicySource = """
    version: 1
    resource: { id: https://mcp.test/mcp, authorization_servers: [https://auth.test], publish_requirements: true }
    scopes:
      files:read: { risk: low }
      files:write: { implies: [files:read] }
      files:admin: { risk: admin, implies: [files:write] }
      reports:read: { risk: low }
      reports:export: { risk: sensitive }
      ops:view: {}
      ops:run: { implies: [ops:view] }
    tools:
      read_file: files:read
      write_file: files:write
      export_report: { requires: { all: [reports:read, reports:export] } }
      either: { requires: { any: [files:admin, reports:export] } }
      "ops_*": ops:run
      ops_list: ops:view
      ping: { public: true }
      file_manager:
        actions:
          read: files:read
          delete: { requires: files:admin }
        when:
          - arguments: { path: { prefix: "/etc/" } }
            requires: files:admin
    """

// A fixed, valid policy: compiling it cannot fail unless the compiler is broken (then every test here fails).
let serverPolicy: CompiledPolicy = try! PolicyCompiler(options: LoadOptions(environment: [:]))
    .compile(source: serverPolicySource).compiled()

@Suite struct ChallengeTests {
    @Test func readsQuotedAndBareParameters() {
        let c = WWWAuthenticate(
            #"DPoP algs="ES256", Bearer error="insufficient_scope", scope="a b:c", resource_metadata="https://x/y\"z""#)
        #expect(c?.error == "insufficient_scope")
        #expect(c?.scopes == ["a", "b:c"])
        #expect(c?.resourceMetadata == #"https://x/y"z"#)
        #expect(WWWAuthenticate("Basic realm=x") == nil)
        #expect(WWWAuthenticate("bearer error=invalid_token")?.error == "invalid_token")
    }
}

@Suite struct DiscoveryTests {
    @Test func fromA401ToTheAuthorizationServer() async throws {
        let network = FakeNetwork(discoveryRoutes())
        let (resource, server) = try await Discovery(fetcher: network).discover(resource: resourceURL)
        #expect(resource.resource == "https://mcp.test/mcp")
        #expect(resource.scopesSupported == ["s1", "s2"])
        #expect(server.issuer == issuer)
        #expect(server.tokenEndpoint.absoluteString == issuer + "/token")
        #expect(server.supportsS256)
        // RFC 8414 first (path form), then OIDC discovery.
        let tried = network.requests.map(\.url.absoluteString)
        #expect(tried.contains("http://127.0.0.1:9/.well-known/oauth-authorization-server/api/oidc"))
    }

    @Test func anotherIssuerInTheMetadataIsRefused() async {
        let network = FakeNetwork(
            [{ r in FakeNetwork.json(#"{"issuer":"https://evil.test","token_endpoint":"https://evil.test/t"}"#) }])
        await #expect(throws: ClientError.self) {
            _ = try await Discovery(fetcher: network).authorizationServer(issuer: "https://auth.test")
        }
    }
}

@Suite struct PlanningTests {
    /// What a client sees: every tool's published entry, as `tools/list` carries it.
    func published(_ names: [String]) -> [String: JSONValue] {
        PublishedRequirements.entries(for: names, in: serverPolicy)
    }

    @Test(arguments: [
        ["read_file"], ["read_file", "write_file"], ["either"], ["either", "read_file"], ["export_report", "either"],
        ["ops_run_report", "ops_list"], ["file_manager"], ["ping", "read_file"], ["write_file", "file_manager"],
    ])
    func theClientsPlanIsTheServersLeastSet(tools: [String]) throws {
        let plan = try ScopePlanner.plan(tools: tools, published: published(tools))
        let server = try LeastPrivilegeSolver(policy: serverPolicy).minimal(for: tools.map { ToolSelection(tool: $0) })
        #expect(plan.scopes == server.scopes)
        #expect(plan.source == .published)
        #expect(plan.optimal)
    }

    @Test func theDocumentPlansGlobsAndConditionsAreNotes() throws {
        guard let document = PublishedRequirements.document(policy: serverPolicy) else {
            Issue.record("no document")
            return
        }
        let entries = ScopePlanner.requirements(fromDocument: document)
        let plan = try ScopePlanner.plan(tools: ["ops_run_report", "file_manager"], published: entries)
        #expect(plan.scopes == ["files:admin", "ops:run"])
        #expect(plan.notes.contains { $0.contains("`file_manager` also needs files:admin") && $0.contains("/etc/") })
    }

    @Test func noPublishedRequirementsFallsBackToScopesSupportedAndSaysSo() throws {
        let plan = try ScopePlanner.plan(tools: ["read_file"], published: [:], scopesSupported: ["s2", "s1"])
        #expect(plan.scopes == ["s1", "s2"])
        #expect(plan.source == .scopesSupported)
        #expect(plan.notes.first?.contains("publishes no requirements") == true)
    }

    @Test func aToolTheResourceDoesNotListIsAnError() {
        #expect(throws: ClientError.self) {
            _ = try ScopePlanner.plan(tools: ["write_file"], published: published(["read_file"]))
        }
    }

    @Test func aToolsListResultIsRead() {
        let result = JSONValue.object([
            "tools": .array([
                .object(["name": .string("read_file"), "_meta": .object([PublishedRequirements.metaKey: .null])]),
                .object(["name": .string("bare")]),
            ])
        ])
        #expect(Array(ScopePlanner.requirements(fromToolsList: result).keys) == ["read_file"])
    }
}
