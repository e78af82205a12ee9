import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

@testable import ScopeGateTokens

@Suite struct DecisionTests {
    @Test func anAllowedCallIsForwardedWithNothingToAnswer() {
        let verdict = Fixture.authorizer.authorize(
            Fixture.toolCall("read_file"), credential: Fixture.credential(["files:read"]))
        #expect(verdict.outcome == .allow)
        #expect(verdict.status == 200)
        #expect(verdict.body == nil)
        #expect(verdict.wwwAuthenticate == nil)
        #expect(verdict.revision == .july2026)
        #expect(verdict.decisions.map(\.reason) == ["allowed"])
    }

    @Test func theChallengeNamesEveryScopeTheOperationNeeds() throws {
        // `export_report` needs reports:read AND reports:export; the token holds reports:read only.
        let verdict = Fixture.authorizer.authorize(
            Fixture.toolCall("export_report"), credential: Fixture.credential(["reports:read", "files:read"]))
        #expect(verdict.outcome == .forbidden)
        #expect(verdict.status == 403)
        #expect(challengeScope(verdict.wwwAuthenticate) == "reports:export reports:read")
        let header = try #require(verdict.wwwAuthenticate)
        #expect(header.hasPrefix("Bearer error=\"insufficient_scope\""))
        #expect(
            header.contains("resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""))
        #expect(errorCode(verdict.body) == -32003)
        let data = try #require(errorData(verdict.body))
        #expect(data["reason"] == .string("missing_scope"))
        #expect(data["missing"] == .array([.string("reports:export")]))
        #expect(data["required"] == .array([.string("reports:export"), .string("reports:read")]))
        guard case .string(let rule)? = data["rule"] else {
            Issue.record("no rule location")
            return
        }
        #expect(rule.contains("<policy>:"))
    }

    @Test func theGrantedPlusMissingStrategyStaysAvailable() {
        let authorizer = RequestAuthorizer(
            policy: Fixture.policy, settings: .init(challengeScope: .grantedPlusMissing))
        let verdict = authorizer.authorize(
            Fixture.toolCall("export_report"), credential: Fixture.credential(["files:read", "reports:read"]))
        #expect(challengeScope(verdict.wwwAuthenticate) == "files:read reports:read reports:export")
    }

    @Test func theRequiredScopesIncludeEveryApplicablePart() {
        // amount > 100 adds budget:approve; the path under /etc/ of file_manager adds files:admin to the action's
        // files:read, which the token holds and the challenge still names.
        let spend = Fixture.authorizer.authorize(
            Fixture.toolCall("spend", arguments: #"{"amount":500}"#), credential: Fixture.credential(["reports:read"]))
        #expect(challengeScope(spend.wwwAuthenticate) == "budget:approve reports:read")
        let manager = Fixture.authorizer.authorize(
            Fixture.toolCall("file_manager", arguments: #"{"action":"read","path":"/etc/passwd"}"#),
            credential: Fixture.credential(["files:read"]))
        #expect(challengeScope(manager.wwwAuthenticate) == "files:admin files:read")
    }

    @Test func aBatchMixingAllowAndDenyIsRefusedWithOneUnionChallenge() throws {
        let body = """
            [{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}},
             {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write_file"}},
             {"jsonrpc":"2.0","method":"notifications/progress","params":{}},
             {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"export_report"}}]
            """
        let verdict = Fixture.authorizer.authorize(Fixture.post(body), credential: Fixture.credential(["files:read"]))
        #expect(verdict.status == 403)
        #expect(verdict.decisions.map(\.allowed) == [true, false, true, false])
        #expect(challengeScope(verdict.wwwAuthenticate) == "files:write reports:export reports:read")
        guard case .array(let responses)? = json(verdict.body) else {
            Issue.record("the body is not a batch of responses")
            return
        }
        #expect(responses.count == 3)
        let reasons = responses.compactMap { response -> String? in
            guard case .object(let o) = response, case .object(let e)? = o["error"], case .object(let d)? = e["data"],
                case .string(let r)? = d["reason"]
            else { return nil }
            return r
        }
        #expect(reasons == ["batch_denied", "missing_scope", "missing_scope"])
    }

    @Test func aBatchOfAllowedMessagesIsAllowed() {
        let body = """
            [{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}},
             {"jsonrpc":"2.0","id":2,"method":"tools/list"},{"jsonrpc":"2.0","id":9,"result":{}}]
            """
        let verdict = Fixture.authorizer.authorize(Fixture.post(body), credential: Fixture.credential(["files:read"]))
        #expect(verdict.outcome == .allow)
        #expect(verdict.listRequests == [.number(2): .tools])
    }

    @Test func denialsNoScopeCanFixHaveNoChallenge() throws {
        let verdict = Fixture.authorizer.authorize(
            Fixture.toolCall("no_such_tool"), credential: Fixture.credential(["files:admin"]))
        #expect(verdict.status == 403)
        #expect(verdict.wwwAuthenticate == nil)
        #expect(try #require(errorData(verdict.body))["reason"] == .string("unknown_tool"))
    }

    @Test func noTokenIs401WithMetadataAndScope() throws {
        let verdict = Fixture.authorizer.authorize(Fixture.toolCall("write_file"), credential: .missing)
        #expect(verdict.status == 401)
        #expect(errorCode(verdict.body) == -32001)
        let header = try #require(verdict.wwwAuthenticate)
        #expect(
            header.contains("resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\""))
        #expect(challengeScope(header) == "files:read files:write")
        #expect(!header.contains("error="))
    }

    @Test func aRefusedTokenIs401InvalidToken() throws {
        let error = TokenError(.expired, "the token expired")
        let verdict = Fixture.authorizer.authorize(Fixture.toolCall("read_file"), credential: .invalid(error))
        #expect(verdict.status == 401)
        let header = try #require(verdict.wwwAuthenticate)
        #expect(header.hasPrefix("Bearer error=\"invalid_token\", error_description=\"the token expired\""))
    }

    @Test func anInputRetryIsDecidedAgain() {
        let body =
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"write_file","arguments":{},"inputResponses":{"r1":{"action":"accept"}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#
        let post = Fixture.post(
            body, revision: "2026-07-28", extra: [("Mcp-Method", "tools/call"), ("Mcp-Name", "write_file")])
        let denied = Fixture.authorizer.authorize(post, credential: Fixture.credential(["files:read"]))
        #expect(denied.status == 403)
        let allowed = Fixture.authorizer.authorize(post, credential: Fixture.credential(["files:write"]))
        #expect(allowed.outcome == .allow)
        #expect(
            JSONRPCMessage(
                kind: .request, id: .number(2), method: "tools/call", params: ["inputResponses": .object([:])]
            ).isInputRetry)
    }

    @Test func tasksAndSubscriptionsGoThroughMethods() throws {
        func post(_ method: String) -> MCPHTTPRequest {
            Fixture.post(
                #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
                revision: "2026-07-28", extra: [("Mcp-Method", method)])
        }
        #expect(
            Fixture.authorizer.authorize(post("tasks/get"), credential: Fixture.credential(["tasks:run"])).outcome
                == .allow)
        let denied = Fixture.authorizer.authorize(post("tasks/get"), credential: Fixture.credential(["files:read"]))
        #expect(challengeScope(denied.wwwAuthenticate) == "tasks:run")
        let listen = Fixture.authorizer.authorize(
            post("subscriptions/listen"), credential: Fixture.credential(["files:admin"]))
        #expect(listen.status == 403)
        #expect(try #require(errorData(listen.body))["reason"] == .string("unknown_method"))
    }

    @Test func aRequestRefusedForItsShapeIsNotDecided() {
        let verdict = Fixture.authorizer.authorize(Fixture.post("{"), credential: Fixture.credential(["files:read"]))
        #expect(verdict.status == 400)
        #expect(errorCode(verdict.body) == -32700)
        #expect(verdict.decisions.isEmpty)
    }
}
