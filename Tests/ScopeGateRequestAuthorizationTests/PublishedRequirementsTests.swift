import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import Testing

@Suite struct PublishedRequirementsTests {
    func listed(_ scopes: [String], publish: Bool = true) -> [String: JSONValue] {
        var filter = ListFilter(
            policy: Fixture.policy, grant: Fixture.policy.grant(scopes), revision: .july2026,
            tokenExpiresAt: Fixture.expiry, now: ListFilterTests.now, requests: [.number(1): .tools])
        filter.publishRequirements = publish
        let out = filter.filterBody(Array(ListFilterTests.toolsResult.utf8))
        guard case .object(let o)? = json(out), case .object(let r)? = o["result"], case .array(let items)? = r["tools"]
        else { return [:] }
        var byName: [String: JSONValue] = [:]
        for case .object(let tool) in items {
            if case .string(let name)? = tool["name"] { byName[name] = tool["_meta"] ?? .null }
        }
        return byName
    }

    func entry(_ meta: JSONValue?) -> [String: JSONValue] {
        guard case .object(let m)? = meta, case .object(let e)? = m[PublishedRequirements.metaKey] else { return [:] }
        return e
    }

    func clauses(_ lists: [[String]]) -> JSONValue { .array(lists.map { .array($0.map(JSONValue.string)) }) }

    @Test func eachListedToolCarriesItsClausesWeightsAndImplications() {
        let tools = listed(["files:write", "reports:read", "reports:export"])
        let write = entry(tools["write_file"])
        #expect(write["v"] == .number(1))
        #expect(write["requires"] == clauses([["files:write"]]))
        // files:write implies files:read, which read_file (also listed) names: the implication is published.
        #expect(
            write["scopes"]
                == .object(["files:write": .object(["weight": .number(2), "implies": .array([.string("files:read")])])])
        )
        let export = entry(tools["export_report"])
        #expect(export["requires"] == clauses([["reports:export", "reports:read"]]))
    }

    @Test func actionsAndConditionsArePublishedWithTheScopesTheyName() {
        let manager = entry(listed(["files:read"])["file_manager"])
        #expect(manager["action_argument"] == .string("action"))
        #expect(
            manager["actions"]
                == .object([
                    "read": .object(["requires": clauses([["files:read"]])]),
                    "delete": .object(["requires": clauses([["files:admin"]])]),
                ]))
        #expect(
            manager["when"]
                == .array([
                    .object([
                        "arguments": .object(["path": .object(["prefix": .string("/etc/")])]),
                        "requires": clauses([["files:admin"]]),
                    ])
                ]))
        // files:admin implies files:write, which is not named by this tool: only files:read is listed.
        guard case .object(let scopes)? = manager["scopes"] else {
            Issue.record("no scopes")
            return
        }
        #expect(Set(scopes.keys) == ["files:read", "files:admin"])
        #expect(scopes["files:admin"] == .object(["weight": .number(16), "implies": .array([.string("files:read")])]))
        #expect(scopes["files:read"] == .object(["weight": .number(1), "implies": .array([])]))
    }

    @Test func removedToolsAndTheirScopesAreNeverPublished() {
        let tools = listed(["files:read"])
        #expect(Set(tools.keys) == ["read_file", "file_manager"])
        let text = JSONValue.object(tools).jsonText
        #expect(!text.contains("reports:export"))
        #expect(!text.contains("write_file"))
    }

    @Test func publishingCanBeTurnedOffAndOtherMetaIsKept() {
        #expect(listed(["files:read"], publish: false)["read_file"] == .null)
        let body = #"{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read_file","_meta":{"x/y":1}}]}}"#
        let out = ListFilter(
            policy: Fixture.policy, grant: Fixture.policy.grant(["files:read"]), revision: nil,
            tokenExpiresAt: nil, now: ListFilterTests.now, requests: [.number(1): .tools]
        ).filterBody(Array(body.utf8))
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains(#""x/y":1"#))
        #expect(text.contains(PublishedRequirements.metaKey))
    }

    @Test func thePublicDocumentIsOptInAndLinkedFromTheMetadata() throws {
        #expect(PublishedRequirements.document(policy: Fixture.policy) == nil)
        #expect(ProtectedResourceMetadata(policy: Fixture.policy).requirementsURL == nil)
        #expect(!ProtectedResourceMetadata(policy: Fixture.policy).json.contains("requirements"))
        let source = policySource.replacingOccurrences(
            of: "  scopes_supported: [files:read]\n",
            with: "  scopes_supported: [files:read]\n  publish_requirements: true\n")
        let policy = try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).compiled()
        let metadata = ProtectedResourceMetadata(policy: policy)
        #expect(metadata.requirementsURL == "https://mcp.example.com/.well-known/scopegate-requirements/mcp")
        #expect(
            metadata.json.contains(
                #""io.scopegate/requirements_uri":"https://mcp.example.com/.well-known/scopegate-requirements/mcp""#))
        #expect(
            metadata.requirementsPaths(endpoint: "/mcp") == [
                "/.well-known/scopegate-requirements/mcp", "/.well-known/scopegate-requirements",
            ])
        guard case .object(let document)? = PublishedRequirements.document(policy: policy),
            case .object(let tools)? = document["tools"]
        else {
            Issue.record("no document")
            return
        }
        #expect(document["resource"] == .string("https://mcp.example.com/mcp"))
        #expect(
            Set(tools.keys) == [
                "read_file", "write_file", "export_report", "preview", "admin_*", "spend", "file_manager",
            ])
        #expect(tools["read_file"] == PublishedRequirements.entry(for: "read_file", in: policy))
    }
}
