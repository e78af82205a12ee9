import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import ScopeGateTokens
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ``ScopeGateMCPServer``, the two-line form, over real HTTP on an ephemeral loopback port.
@Suite struct ScopeGateMCPServerTests {
    static let issuer = "https://auth.climate.example.com"
    static let resource = "https://mcp.climate.example.com/mcp"

    struct Running {
        let base: String
        let task: Task<Void, any Error>
        let authorization: TestAuthorizationServer

        func post(_ body: String, scope: String) async throws -> (status: Int, challenge: String?, body: String) {
            var request = URLRequest(url: try #require(URL(string: base + "/mcp")))
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
            request.setValue(
                "Bearer \(authorization.token(scope: scope, audience: ScopeGateMCPServerTests.resource))",
                forHTTPHeaderField: "Authorization")
            request.httpBody = Data(body.utf8)
            let (data, response) = try await URLSession(configuration: .ephemeral).data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            return (
                http.statusCode, http.value(forHTTPHeaderField: "WWW-Authenticate"),
                String(decoding: data, as: UTF8.self)
            )
        }
    }

    /// Starts the server on the policy at `path` with keys of `authorization` (no JWKS fetching).
    func start(policy path: String, authorization: TestAuthorizationServer) async throws -> Running {
        let keys = try await JWKSet.parse(Array(authorization.jwks.utf8))
        let tools = [
            Tool(name: "get_forecast", description: "forecast", inputSchema: .object(["type": "object"])),
            Tool(name: "read_client", description: "client record", inputSchema: .object(["type": "object"])),
        ]
        var options = ScopeGateMCPServer.Options()
        options.configuration.staticKeys = [Self.issuer: keys]
        options.reloadInterval = .milliseconds(50)
        options.reloadOnSIGHUP = false  // the test process keeps its signal handling

        // The form the README shows: policy, tools, handler; then run.
        let server = try ScopeGateMCPServer(policy: path, tools: tools, options: options) { call, caller in
            CallTool.Result(content: [
                .text(text: "ran \(call.name) for \(caller.clientID ?? "?")", annotations: nil, _meta: nil)
            ])
        }
        let port = Locked(0)
        let task = Task { try await server.run(host: "127.0.0.1", port: 0) { port.set($0) } }
        for _ in 0..<400 where port.get() == 0 { try await Task.sleep(for: .milliseconds(25)) }
        #expect(port.get() > 0)
        return Running(base: "http://127.0.0.1:\(port.get())", task: task, authorization: authorization)
    }

    @Test func allowsDeniesWithAChallengeFiltersTheListAndReloads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-conv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        let original = try String(contentsOfFile: climatePolicyPath, encoding: .utf8)
        try original.write(toFile: path, atomically: true, encoding: .utf8)

        let running = try await start(policy: path, authorization: TestAuthorizationServer(issuer: Self.issuer))
        defer { running.task.cancel() }
        let climate = "mcp:tools:climate"

        let allowed = try await running.post(toolCall("get_forecast", ["location": "Oslo"]), scope: climate)
        #expect(allowed.status == 200)
        #expect(allowed.body.contains("ran get_forecast for climate-bot"))

        let denied = try await running.post(toolCall("read_client", ["client_id": "1"]), scope: climate)
        #expect(denied.status == 403)
        #expect(denied.challenge?.contains("error=\"insufficient_scope\"") == true)
        #expect(denied.challenge?.contains("scope=\"mcp:data:client-info:read\"") == true)
        // Over HTTP the refusal carries what the proxy sends: the request's id and the structured data.
        #expect(denied.body.contains("\"reason\":\"missing_scope\""))
        #expect(denied.body.contains("\"required\":[\"mcp:data:client-info:read\"]"))
        #expect(!denied.body.contains("ran read_client"))

        let list = try await running.post(
            jsonText(["jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": [:] as [String: Any]]),
            scope: climate)
        #expect(list.status == 200)
        #expect(list.body.contains("\"get_forecast\""))
        #expect(!list.body.contains("\"read_client\""))

        // read_client now needs only mcp:tools:climate; the poller picks the change up.
        let relaxed = original.replacingOccurrences(
            of: "  read_client: mcp:data:client-info:read", with: "  read_client: mcp:tools:climate")
        #expect(relaxed != original)
        try relaxed.write(toFile: path, atomically: true, encoding: .utf8)
        var after = try await running.post(toolCall("read_client", ["client_id": "1"]), scope: climate)
        for _ in 0..<200 where after.status != 200 {
            try await Task.sleep(for: .milliseconds(50))
            after = try await running.post(toolCall("read_client", ["client_id": "1"]), scope: climate)
        }
        #expect(after.status == 200)
        #expect(after.body.contains("ran read_client for climate-bot"))
    }

    @Test func aPolicyWithErrorsIsRefusedWithItsDiagnostics() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sg-bad-\(UUID().uuidString).yaml")
            .path
        try "version: 1\nscopes: { a: {} }\ntools: { t: { requries: a } }\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: PolicyError.self) {
            _ = try ScopeGateMCPServer(policy: path, tools: []) { _, _ in CallTool.Result(content: []) }
        }
    }
}
