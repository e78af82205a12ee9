import Foundation
import MCP
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The MCP Swift SDK's own client (`OAuthAuthorizer` + `HTTPClientTransport`, client credentials) against the
/// example server in-process, on `https://` hosts served through a `URLProtocol`.
@Suite struct SDKClientEndToEndTests {
    @Test func discoveryTokenStepUpAndFilteredList() async throws {
        let world = try World()
        let client = Client(name: "sdk-test-client", version: "1.0")

        // 1. initialize without a token → 401 → PRM discovery → AS metadata → token with scopes_supported.
        _ = try await client.connect(transport: try world.sdkTransport())
        let first = try #require(world.authorizationServer.tokenRequests.first)
        #expect(first["scope"] == "mcp:tools:climate")
        #expect(first["resource"] == world.resource)

        // 2. tools/list is filtered to what the token may call.
        let listed = try await client.listTools().tools.map(\.name)
        #expect(listed == ["get_forecast"])

        // 3. An allowed call.
        let forecast = try await client.callTool(name: "get_forecast", arguments: ["location": "Oslo"])
        #expect(forecast.isError != true)

        // 4. A call needing more scope → 403 insufficient_scope → step-up (union of scopes) → success.
        let record = try await client.callTool(name: "read_client", arguments: ["client_id": "c-7"])
        #expect(record.isError != true)
        let requests = world.authorizationServer.tokenRequests
        #expect(requests.count == 2)
        let stepped = Set((requests.last?["scope"] ?? "").split(separator: " ").map(String.init))
        #expect(stepped == ["mcp:tools:climate", "mcp:data:client-info:read"])

        // 5. The stepped-up token lists the newly allowed tool too.
        let after = try await client.listTools().tools.map(\.name)
        #expect(after == ["get_forecast", "read_client"])

        // The audit saw the denial with the missing scope, and never a token.
        let denied = world.audit.events.filter { !$0.allowed && $0.tool == "read_client" }
        #expect(denied.first?.missing == ["mcp:data:client-info:read"])
        await client.disconnect()
    }
}
