import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

@Suite struct HeaderOnlyTests {
    func headers(_ name: String, method: String = "tools/call", _ params: [(String, String)] = [])
        -> MCPRequestHeaders
    {
        MCPRequestHeaders(
            [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", method), ("Mcp-Name", name)] + params)
    }

    func decide(_ headers: MCPRequestHeaders, _ scopes: [String]) -> AuthorizationVerdict {
        Fixture.authorizer.authorizeHeaders(headers, credential: Fixture.credential(scopes))
    }

    @Test func numbersAreReadAsNumbers() {
        let small = decide(
            headers("spend", [("Mcp-Param-Amount", "50"), ("Mcp-Param-Urgent", "false")]), ["reports:read"])
        #expect(small.outcome == .allow)
        let large = decide(
            headers("spend", [("Mcp-Param-Amount", "500"), ("Mcp-Param-Urgent", "false")]), ["reports:read"])
        #expect(large.status == 403)
        #expect(challengeScope(large.wwwAuthenticate) == "budget:approve reports:read")
    }

    @Test func booleansAreReadAsTrueOrFalse() {
        let urgent = decide(
            headers("spend", [("mcp-param-amount", "1"), ("MCP-PARAM-URGENT", "true")]), ["reports:read"])
        #expect(urgent.status == 403)
        #expect(challengeScope(urgent.wwwAuthenticate) == "files:admin reports:read")
        let calm = decide(
            headers("spend", [("mcp-param-amount", "1"), ("MCP-PARAM-URGENT", "false")]), ["reports:read"])
        #expect(calm.outcome == .allow)
    }

    @Test(arguments: [("lots", "false"), ("1", "yes"), ("0x10", "false"), ("", "false")])
    func valuesOfTheWrongTypeFailClosed(amount: String, urgent: String) {
        // A value that does not read as the needed type counts as a matched condition: its scope is required.
        let verdict = decide(
            headers("spend", [("Mcp-Param-Amount", amount), ("Mcp-Param-Urgent", urgent)]), ["reports:read"])
        #expect(verdict.status == 403)
        #expect(verdict.decisions.first?.reason == "missing_scope")
    }

    @Test func aMissingArgumentHeaderIsDeniedNamingIt() throws {
        let verdict = decide(
            headers("spend", [("Mcp-Param-Amount", "5")]), ["reports:read", "budget:approve", "files:admin"])
        #expect(verdict.status == 403)
        #expect(verdict.wwwAuthenticate == nil)
        let decision = try #require(verdict.decisions.first)
        #expect(decision.reason == "missing_header")
        #expect(decision.missingHeaders == ["Mcp-Param-urgent"])
        #expect(try #require(errorData(verdict.body))["headers"] == .array([.string("Mcp-Param-urgent")]))
    }

    @Test func theActionComesFromItsHeader() {
        let read = decide(
            headers("file_manager", [("Mcp-Param-Action", "read"), ("Mcp-Param-Path", "/tmp/x")]), ["files:read"])
        #expect(read.outcome == .allow)
        let delete = decide(
            headers("file_manager", [("Mcp-Param-Action", "delete"), ("Mcp-Param-Path", "/tmp/x")]), ["files:read"])
        #expect(challengeScope(delete.wwwAuthenticate) == "files:admin")
        let none = decide(headers("file_manager", [("Mcp-Param-Path", "/tmp/x")]), ["files:admin"])
        #expect(none.decisions.first?.missingHeaders == ["Mcp-Param-action"])
    }

    @Test func toolsWithoutConditionsNeedNoParameterHeaders() {
        #expect(decide(headers("read_file"), ["files:read"]).outcome == .allow)
        #expect(decide(headers("write_file"), ["files:read"]).status == 403)
        #expect(decide(headers("summarize", method: "prompts/get"), ["reports:read"]).outcome == .allow)
    }

    @Test func aMissingNameOrMethodIsRefused() {
        let noName = MCPRequestHeaders([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call")])
        #expect(decide(noName, ["files:read"]).status == 400)
        let noMethod = MCPRequestHeaders([("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Name", "read_file")])
        #expect(decide(noMethod, ["files:read"]).status == 400)
    }

    @Test func olderClientsAreToldToUseTheProxy() {
        let old = MCPRequestHeaders([("MCP-Protocol-Version", "2025-11-25"), ("Mcp-Method", "tools/list")])
        let verdict = decide(old, ["files:read"])
        #expect(verdict.status == 400)
        #expect(verdict.rejection?.message.contains("proxy") == true)
        let none = MCPRequestHeaders([("Mcp-Method", "tools/list")])
        #expect(decide(none, ["files:read"]).rejection?.message.contains("proxy") == true)
    }

    @Test func noTokenIs401WithTheToolsLeastPrivilege() {
        let verdict = Fixture.authorizer.authorizeHeaders(headers("write_file"), credential: .missing)
        #expect(verdict.status == 401)
        #expect(challengeScope(verdict.wwwAuthenticate) == "files:read files:write")
    }

    @Test func theSameRequestDecidesTheSameWithOrWithoutItsBody() {
        for (amount, urgent) in [("50", "false"), ("500", "false"), ("5", "true")] {
            let params = [("Mcp-Param-Amount", amount), ("Mcp-Param-Urgent", urgent)]
            let withBody = Fixture.authorizer.authorize(
                Fixture.toolCall("spend", arguments: #"{"amount":\#(amount),"urgent":\#(urgent)}"#, extra: params),
                credential: Fixture.credential(["reports:read"]))
            let headerOnly = decide(headers("spend", params), ["reports:read"])
            #expect(withBody.status == headerOnly.status)
            #expect(withBody.wwwAuthenticate == headerOnly.wwwAuthenticate)
        }
    }

    @Test func listsTheArgumentsThePolicyDecidesOn() {
        let listed = HeaderArgumentTypes.arguments(of: Fixture.policy)
        #expect(listed.map(\.tool) == ["spend", "file_manager"])
        #expect(listed[0].arguments.map(\.name) == ["amount", "urgent"])
        #expect(listed[0].arguments.map(\.type) == [.number, .boolean])
        #expect(listed[1].arguments.map(\.name) == ["action", "path"])
        #expect(listed[1].arguments.map(\.usedBy) == [["action"], ["when"]])
    }
}
