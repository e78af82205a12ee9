import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

/// The fixture policy with `extra` YAML appended at the top level (e.g. `mode: shadow`) and tool rules replaced
/// by `tools`.
private func policy(top: String = "", tools: String) throws -> CompiledPolicy {
    let source = """
        version: 1
        \(top)
        scopes:
          files:read: {}
          files:write: { implies: [files:read] }
        tools:
        \(tools)
        prompts:
          summarize: files:write
        """
    return try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).compiled()
}

private func credential(_ policy: CompiledPolicy, _ scopes: [String]) -> Credential {
    .granted(policy.grant(scopes), expiresAt: Fixture.expiry, stripPrefixes: [])
}

@Suite struct ShadowModeTests {
    @Test func aPolicyInShadowModeLetsADenialThroughAndMarksIt() throws {
        let policy = try policy(top: "mode: shadow", tools: "  write_file: files:write\n  read_file: files:read")
        let verdict = RequestAuthorizer(policy: policy).authorize(
            Fixture.toolCall("write_file"), credential: credential(policy, ["files:read"]))
        #expect(verdict.outcome == .allow)
        #expect(verdict.status == 200)
        #expect(verdict.body == nil)
        #expect(verdict.wwwAuthenticate == nil)
        #expect(verdict.wouldDeny)
        let decision = try #require(verdict.decisions.first)
        // The decision stays the policy's: denied, with what was missing, for the audit.
        #expect(!decision.allowed)
        #expect(decision.shadowed)
        #expect(decision.reason == "missing_scope")
        #expect(decision.missing == ["files:write"])
    }

    @Test func anAllowedCallInShadowModeIsNotAWouldDeny() throws {
        let policy = try policy(top: "mode: shadow", tools: "  read_file: files:read")
        let verdict = RequestAuthorizer(policy: policy).authorize(
            Fixture.toolCall("read_file"), credential: credential(policy, ["files:read"]))
        #expect(verdict.outcome == .allow)
        #expect(!verdict.wouldDeny)
        #expect(verdict.decisions.map(\.shadowed) == [false])
    }

    @Test func aToolInShadowModeDoesNotRelaxTheOthers() throws {
        let policy = try policy(tools: "  write_file: { requires: files:write, mode: shadow }\n  read_file: files:read")
        let authorizer = RequestAuthorizer(policy: policy)
        let shadowed = authorizer.authorize(Fixture.toolCall("write_file"), credential: credential(policy, []))
        #expect(shadowed.outcome == .allow)
        #expect(shadowed.wouldDeny)
        let enforced = authorizer.authorize(Fixture.toolCall("read_file"), credential: credential(policy, []))
        #expect(enforced.outcome == .forbidden)
        #expect(enforced.status == 403)
        #expect(enforced.decisions.map(\.shadowed) == [false])
        // Methods, resources and prompts follow the top level, which enforces.
        let prompt = authorizer.authorize(
            Fixture.post(#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"summarize"}}"#),
            credential: credential(policy, []))
        #expect(prompt.status == 403)
    }

    @Test func aToolCanEnforceInsideAShadowPolicy() throws {
        let policy = try policy(
            top: "mode: shadow",
            tools: "  write_file: { requires: files:write, mode: enforce }\n  read_file: files:read")
        let authorizer = RequestAuthorizer(policy: policy)
        #expect(authorizer.authorize(Fixture.toolCall("write_file"), credential: credential(policy, [])).status == 403)
        #expect(authorizer.authorize(Fixture.toolCall("read_file"), credential: credential(policy, [])).wouldDeny)
        // An unknown tool follows the top level: shadowed, reason kept.
        let unknown = authorizer.authorize(Fixture.toolCall("nope"), credential: credential(policy, []))
        #expect(unknown.wouldDeny)
        #expect(unknown.decisions.first?.reason == "unknown_tool")
    }

    @Test func theSettingOverridesThePolicyBothWays() throws {
        let shadowAll = RequestAuthorizer(policy: Fixture.policy, settings: .init(mode: .shadow))
        let relaxed = shadowAll.authorize(Fixture.toolCall("write_file"), credential: Fixture.credential([]))
        #expect(relaxed.outcome == .allow)
        #expect(relaxed.wouldDeny)
        let policy = try policy(top: "mode: shadow", tools: "  write_file: { requires: files:write, mode: shadow }")
        let enforceAll = RequestAuthorizer(policy: policy, settings: .init(mode: .enforce))
        let refused = enforceAll.authorize(Fixture.toolCall("write_file"), credential: credential(policy, []))
        #expect(refused.status == 403)
        #expect(!refused.wouldDeny)
    }

    @Test func shadowModeNeverRelaxesAuthenticationOrProtocolChecks() {
        let shadowAll = RequestAuthorizer(policy: Fixture.policy, settings: .init(mode: .shadow))
        #expect(shadowAll.authorize(Fixture.toolCall("write_file"), credential: .missing).status == 401)
        #expect(shadowAll.authorize(Fixture.post("{"), credential: Fixture.credential(["files:read"])).status == 400)
        let mismatch = shadowAll.authorize(
            Fixture.toolCall("write_file", mcpName: "read_file"), credential: Fixture.credential([]))
        #expect(mismatch.status == 400)
        #expect(errorCode(mismatch.body) == -32020)
    }

    @Test func aBatchWithAnEnforcedDenialIsRefusedAndTheShadowedMessageIsNotBlamed() throws {
        let policy = try policy(tools: "  write_file: { requires: files:write, mode: shadow }\n  read_file: files:read")
        let batch = """
            [{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file"}},
             {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_file"}}]
            """
        let verdict = RequestAuthorizer(policy: policy).authorize(
            Fixture.post(batch), credential: credential(policy, []))
        #expect(verdict.status == 403)
        #expect(!verdict.wouldDeny)
        #expect(verdict.decisions.map(\.shadowed) == [true, false])
        guard case .array(let answers)? = json(verdict.body), answers.count == 2,
            case .object(let first) = answers[0], case .object(let error)? = first["error"],
            case .object(let data)? = error["data"]
        else {
            Issue.record("expected two JSON-RPC errors")
            return
        }
        #expect(data["reason"] == .string("batch_denied"))
        // The challenge names only what the enforced denial needs.
        #expect(challengeScope(verdict.wwwAuthenticate) == "files:read")
    }

    @Test func aHeaderOnlyDecisionMissingItsArgumentHeaderIsShadowedToo() throws {
        let shadowAll = RequestAuthorizer(policy: Fixture.policy, settings: .init(mode: .shadow))
        let headers = Fixture.headers([
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "spend"),
        ])
        let verdict = shadowAll.authorizeHeaders(headers, credential: Fixture.credential(["reports:read"]))
        #expect(verdict.outcome == .allow)
        #expect(verdict.wouldDeny)
        #expect(verdict.decisions.first?.reason == "missing_header")
    }

    @Test func listsAreNotFilteredOfWhatShadowModeLetsThrough() throws {
        let policy = try policy(
            tools: "  write_file: { requires: files:write, mode: shadow }\n  read_file: files:write")
        let tools: JSONValue = .array([
            .object(["name": .string("write_file")]), .object(["name": .string("read_file")]),
        ])
        var filter = ListFilter(
            policy: policy, grant: policy.grant([]), revision: .november2025, tokenExpiresAt: nil, now: Date(),
            requests: [.number(1): .tools])
        let message: JSONValue = .object([
            "jsonrpc": .string("2.0"), "id": .number(1), "result": .object(["tools": tools]),
        ])
        func names(_ value: JSONValue?) -> [String] {
            guard case .object(let o)? = value, case .object(let r)? = o["result"], case .array(let items)? = r["tools"]
            else { return [] }
            return items.compactMap { item in
                guard case .object(let entry) = item, case .string(let name)? = entry["name"] else { return nil }
                return name
            }
        }
        #expect(names(filter.filterMessage(message)) == ["write_file"])
        filter.mode = .shadow
        #expect(names(filter.filterMessage(message)) == ["write_file", "read_file"])
        filter.mode = .enforce
        #expect(names(filter.filterMessage(message)).isEmpty)
    }
}
