import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import ScopeGateTokens
import Testing

@testable import climate_server

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `downstream:` tools: the caller's token is exchanged (RFC 8693) for a token of the downstream API's audience;
/// the handler and the downstream API only ever see that one.
@Suite struct DownstreamExchangeTests {
    /// The MCP SDK's own client over HTTP → gateway → handler → exchange at the in-process AS → the example's CRM API.
    @Test func updateClientCallsTheCRMWithAnExchangedTokenAndNeverTheCallers() async throws {
        let world = try World()
        let client = Client(name: "downstream-test", version: "1.0")
        _ = try await client.connect(transport: try world.sdkTransport())

        // 403 → step-up to mcp:data:client-info:write → the call runs with an exchanged token.
        let first = try await client.callTool(name: "update_client", arguments: ["client_id": "c-7", "plan": "gold"])
        #expect(first.isError != true, "\(first.content)")
        guard case .text(let text, _, _)? = first.content.first else {
            Issue.record("no text")
            return
        }
        #expect(text.hasPrefix("updated client c-7 (plan gold) through the CRM API"))

        let server = world.authorizationServer
        let exchanges = server.exchangeRequests
        #expect(exchanges.count == 1)
        let exchange = try #require(exchanges.first)
        #expect(exchange.form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange")
        #expect(exchange.form["audience"] == "https://crm.climate.example.com")
        #expect(exchange.form["scope"] == "crm:clients:write")
        #expect(exchange.form["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token")
        let subject = try #require(exchange.form["subject_token"])
        #expect(server.issuedCallerTokens.contains(subject), "the subject token is the caller's")

        // Again: the cached exchanged token; no second exchange.
        let second = try await client.callTool(name: "update_client", arguments: ["client_id": "c-8"])
        #expect(second.isError != true)
        #expect(server.exchangeRequests.count == 1)

        // The downstream API got exactly the exchanged token, twice, and never a caller token.
        let exchanged = try #require(server.exchangedTokens.first)
        #expect(world.crm.authorizations == ["Bearer \(exchanged)", "Bearer \(exchanged)"])
        let callerTokens = server.issuedCallerTokens
        #expect(callerTokens.count >= 2)  // the first token and the stepped-up one
        for header in world.crm.authorizations {
            for token in callerTokens { #expect(!header.contains(token)) }
        }

        // The audit records each exchange (audience, scopes, the issued token's jti) and never a token.
        let records = world.audit.events.compactMap(\.downstream)
        #expect(records.count == 2)
        #expect(records.map(\.audience) == ["https://crm.climate.example.com", "https://crm.climate.example.com"])
        #expect(records.map(\.scopes) == [["crm:clients:write"], ["crm:clients:write"]])
        #expect(records.map(\.tokenID) == ["exchanged-1", "exchanged-1"])
        #expect(records.map(\.cached) == [false, true])
        #expect(records.allSatisfy { $0.error == nil })
        for event in world.audit.events {
            for token in callerTokens + [exchanged] { #expect(!event.json.contains(token)) }
        }
        let exchangeEvent = try #require(world.audit.events.first { $0.downstream != nil })
        #expect(
            exchangeEvent.reason == "token_exchanged" && exchangeEvent.allowed && exchangeEvent.tool == "update_client")
        #expect(exchangeEvent.json.contains(#""downstream":{"issuer":"#))
        await client.disconnect()
    }

    /// The CRM API checks the audience: the caller's own token (passthrough) is refused, the exchanged one accepted.
    @Test func theDownstreamAPIRefusesAPassedThroughToken() async throws {
        let world = try World()
        let callerToken = world.token("mcp:tools:climate mcp:data:client-info:write")
        let refused = await world.crm.api.handle(
            method: "PUT", path: "/clients/1", authorization: "Bearer \(callerToken)", body: [])
        #expect(refused.status == 401)
        #expect(refused.body.contains("token is not for this resource"))
        let (authorizer, caller) = try await authenticated(world, callerToken)
        let result = await authorizer.exchange(
            try #require(authorizer.downstream(forTool: "update_client")),
            for: .tool("update_client"), caller: caller, subjectToken: callerToken)
        let token = try result.get()
        #expect(token.accessToken != callerToken)
        let accepted = await world.crm.api.handle(
            method: "PUT", path: "/clients/1", authorization: token.authorizationHeaderValue, body: [])
        #expect(accepted.status == 200)
    }

    func authenticated(_ world: World, _ token: String) async throws -> (MCPAuthorizer, Caller) {
        let authorizer = world.app.authorizer
        guard case .authenticated(let caller) = await authorizer.authenticate(authorization: "Bearer \(token)") else {
            throw CancellationError()
        }
        return (authorizer, caller)
    }

    enum Failure: String, CaseIterable, Sendable {
        case unknownAudience, scopeNotAllowed, wrongClientSecret, serverDown, notConfigured, noSubjectToken

        var expected: (reason: String, oauth: String?) {
            switch self {
            case .unknownAudience: ("exchange.invalid_target", "invalid_target")
            case .scopeNotAllowed: ("exchange.invalid_scope", "invalid_scope")
            case .wrongClientSecret: ("exchange.invalid_client", "invalid_client")
            case .serverDown: ("exchange.unavailable", nil)
            case .notConfigured: ("exchange.not_configured", nil)
            case .noSubjectToken: ("exchange.no_subject_token", nil)
            }
        }
    }

    /// Each failure is a tool error result naming its reason; the handler (and so the downstream API) never runs.
    @Test(arguments: Failure.allCases)
    func eachExchangeFailureIsAClearToolError(_ failure: Failure) async throws {
        let world = try World(exchange: failure != .notConfigured)
        let server = world.authorizationServer
        switch failure {
        case .unknownAudience: server.setTargets(["https://other.example.com": ["x"]])
        case .scopeNotAllowed: server.setTargets(["https://crm.climate.example.com": ["crm:clients:read"]])
        case .wrongClientSecret: server.setServerSecret("rotated")
        case .serverDown: server.setUnavailable(true)
        case .notConfigured, .noSubjectToken: break
        }
        let token = world.token("mcp:data:client-info:write")
        let (authorizer, caller) = try await authenticated(world, token)
        let handlerRuns = AuditCollector()
        let mcp = Server(name: "t", version: "1", capabilities: .init(tools: .init(listChanged: false)))
        let source: CallerSource =
            failure == .noSubjectToken
            ? .provider { caller }
            : .provider({ caller }, subjectToken: { token })
        await mcp.withAuthorizedTools(
            authorizer, tools: ClimateServer.tools, caller: source,
            delegating: { params, _, downstream in
                handlerRuns.append(
                    AuditEvent(
                        time: Date(), clientID: nil, subject: nil, tokenID: nil, method: "", tool: params.name,
                        action: nil, arguments: [:], granted: [], allowed: downstream != nil, reason: "",
                        required: [], missing: [], rule: nil, policyVersion: ""))
                return ClimateServer.call(params)
            })
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await mcp.start(transport: serverTransport)
        let client = Client(name: "c", version: "1")
        _ = try await client.connect(transport: clientTransport)

        let context: RequestContext<CallTool.Result> = try await client.callTool(
            name: "update_client", arguments: ["client_id": "1"])
        let result = try await context.value
        #expect(result.isError == true)
        guard case .text(let text, _, _)? = result.content.first else {
            Issue.record("no text")
            return
        }
        #expect(
            text.hasPrefix(
                "token_exchange_failed: `update_client` cannot get a token for `https://crm.climate.example.com`"))
        #expect(!text.contains(token))
        guard case .object(let content)? = result.structuredContent else {
            Issue.record("no structured content")
            return
        }
        #expect(content["error"] == .string("token_exchange_failed"))
        #expect(content["reason"] == .string(failure.expected.reason))
        #expect(content["audience"] == .string("https://crm.climate.example.com"))
        #expect(content["oauth_error"] == failure.expected.oauth.map(Value.string))
        #expect(handlerRuns.events.isEmpty)
        #expect(world.crm.authorizations.isEmpty)
        // The failure is audited with its code.
        let record = try #require(world.audit.events.compactMap(\.downstream).last)
        #expect(record.error == failure.expected.reason)
        #expect(record.tokenID == nil)

        // A denied call never reaches the authorization server.
        let exchangesBefore = server.exchangeRequests.count
        let denied = try await client.callTool(name: "file_manager", arguments: ["action": "read", "path": "/a"])
        #expect(denied.isError == true)  // the token has no read:files
        #expect(server.exchangeRequests.count == exchangesBefore)
        await client.disconnect()
        await mcp.stop()
    }

    /// A handler registered without `delegating:` never triggers an exchange.
    @Test func plainHandlersDoNotExchange() async throws {
        let world = try World()
        let token = world.token("mcp:data:client-info:write")
        let (authorizer, caller) = try await authenticated(world, token)
        let mcp = Server(name: "t", version: "1", capabilities: .init(tools: .init(listChanged: false)))
        await mcp.withAuthorizedTools(
            authorizer, tools: ClimateServer.tools,
            caller: .provider({ caller }, subjectToken: { token })
        ) { params, _ in
            ClimateServer.text("ran \(params.name)")
        }
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await mcp.start(transport: serverTransport)
        let client = Client(name: "c", version: "1")
        _ = try await client.connect(transport: clientTransport)
        let result = try await client.callTool(name: "update_client", arguments: ["client_id": "1"])
        #expect(result.isError != true)
        #expect(world.authorizationServer.exchangeRequests.isEmpty)
        await client.disconnect()
        await mcp.stop()
    }
}
