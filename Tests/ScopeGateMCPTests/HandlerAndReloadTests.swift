import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import Testing

@testable import climate_server

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

@Suite struct HandlerWrapperTests {
    /// stdio-style: no HTTP context, the caller comes from an injected provider.
    func connected(scopes: [String], audit: AuditCollector) async throws -> (Client, Server) {
        let store = try PolicyStore(path: climatePolicyPath)
        var configuration = ScopeGateMCPConfiguration()
        configuration.auditSink = { audit.append($0) }
        let authorizer = MCPAuthorizer(store: store, configuration: configuration)
        let server = Server(name: "t", version: "1", capabilities: .init(tools: .init(listChanged: false)))
        await server.withAuthorizedTools(
            authorizer, tools: ClimateServer.tools,
            caller: .provider {
                Caller(scopes: scopes, clientID: "stdio", policy: authorizer.store.current.policy)
            }
        ) { params, _ in ClimateServer.call(params) }
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        let client = Client(name: "c", version: "1")
        _ = try await client.connect(transport: clientTransport)
        return (client, server)
    }

    @Test func deniedCallReturnsAnErrorResultNamingTheMissingScopes() async throws {
        let audit = AuditCollector()
        let (client, server) = try await connected(scopes: ["mcp:tools:climate"], audit: audit)
        let ok = try await client.callTool(name: "get_forecast", arguments: ["location": "Oslo"])
        #expect(ok.isError != true)
        let denied = try await client.callTool(name: "read_client", arguments: ["client_id": "1"])
        #expect(denied.isError == true)
        guard case .text(let text, _, _)? = denied.content.first else {
            Issue.record("no text")
            return
        }
        #expect(text == "insufficient_scope: `read_client` needs `mcp:data:client-info:read`")
        // stdio: every decision is audited in the handler.
        #expect(audit.events.map(\.allowed) == [true, false])
        let listed = try await client.listTools().tools.map(\.name)
        #expect(listed == ["get_forecast"])
        await client.disconnect()
        await server.stop()
    }

    @Test func listedToolsCarryTheirPublishedRequirement() async throws {
        let (client, server) = try await connected(scopes: ["read:files"], audit: AuditCollector())
        let tools = try await client.listTools().tools
        guard let requires = tools.first?._meta?["io.scopegate/requires"] else {
            Issue.record("no published requirement on `\(tools.first?.name ?? "-")`")
            return
        }
        guard case .object(let entry) = requires, case .object(let actions)? = entry["actions"] else {
            Issue.record("not an entry with actions: \(requires)")
            return
        }
        #expect(entry["v"] == .int(1))
        #expect(actions["read"] == .object(["requires": .array([.array([.string("read:files")])])]))
        #expect(entry["when"] != nil)
        await client.disconnect()
        await server.stop()
    }

    @Test func actionsCountForTheListing() async throws {
        let (client, server) = try await connected(scopes: ["read:files"], audit: AuditCollector())
        #expect(try await client.listTools().tools.map(\.name) == ["file_manager"])
        let write = try await client.callTool(name: "file_manager", arguments: ["action": "write", "path": "/a"])
        #expect(write.isError == true)
        await client.disconnect()
        await server.stop()
    }

    @Test func noCallerFailsClosed() async throws {
        let store = try PolicyStore(path: climatePolicyPath)
        let authorizer = MCPAuthorizer(store: store)
        let server = Server(name: "t", version: "1", capabilities: .init(tools: .init(listChanged: false)))
        await server.withAuthorizedTools(authorizer, tools: ClimateServer.tools) { params, _ in
            ClimateServer.call(params)
        }
        let (clientTransport, serverTransport) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverTransport)
        let client = Client(name: "c", version: "1")
        _ = try await client.connect(transport: clientTransport)
        #expect(try await client.listTools().tools.isEmpty)
        #expect(try await client.callTool(name: "get_forecast", arguments: ["location": "x"]).isError == true)
        await client.disconnect()
        await server.stop()
    }
}

@Suite struct ReloadTests {
    @Test func changedFileIsReloadedAndABrokenOneKeepsTheLastGood() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-mcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("policy.yaml").path
        let original = try String(contentsOfFile: climatePolicyPath, encoding: .utf8)
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        let world = try World(policyPath: path)
        let reloader = PolicyReloader(authorizer: world.app.authorizer, path: path)
        let token = world.token("mcp:tools:climate")
        #expect(await world.post(toolCall("read_client", ["client_id": "1"]), token: token).statusCode == 403)
        #expect(reloader.poll() == false)

        // read_client now needs only mcp:tools:climate.
        let relaxed = original.replacingOccurrences(
            of: "  read_client: mcp:data:client-info:read", with: "  read_client: mcp:tools:climate")
        #expect(relaxed != original)
        try relaxed.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reloader.poll() == true)
        #expect(await world.post(toolCall("read_client", ["client_id": "1"]), token: token).statusCode == 200)
        let version = world.app.authorizer.store.current.version

        // A broken policy (a typo'd key) is rejected; the last good one stays.
        try (relaxed + "\nrequries: {}\n").write(toFile: path, atomically: true, encoding: .utf8)
        reloader.poll()
        #expect(world.app.authorizer.store.current.version == version)
        #expect(await world.post(toolCall("read_client", ["client_id": "1"]), token: token).statusCode == 200)
    }
}

@Suite struct RealHTTPTests {
    /// The Hummingbird adapter on 127.0.0.1 with real HTTP requests.
    @Test func servesMetadataAndChallengesOverLoopback() async throws {
        let world = try World()
        let port = Locked(0)
        let app = ScopeGateHTTPServer.application(
            gateway: world.app.gateway, host: "127.0.0.1", port: 0,
            onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
        let task = Task { try await app.run() }
        defer { task.cancel() }
        var bound = 0
        for _ in 0..<200 where bound == 0 {
            try await Task.sleep(for: .milliseconds(25))
            bound = port.get()
        }
        #expect(bound > 0)
        let session = URLSession(configuration: .ephemeral)
        let base = "http://127.0.0.1:\(bound)"
        let (prm, prmResponse) = try await session.data(
            from: try #require(URL(string: base + "/.well-known/oauth-protected-resource/mcp")))
        #expect((prmResponse as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: prm, as: UTF8.self).contains("\"bearer_methods_supported\":[\"header\"]"))

        var request = URLRequest(url: try #require(URL(string: base + "/mcp")))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        request.httpBody = Data(toolCall("get_forecast", ["location": "x"]).utf8)
        let (_, unauthorized) = try await session.data(for: request)
        let http = try #require(unauthorized as? HTTPURLResponse)
        #expect(http.statusCode == 401)
        #expect(
            http.value(forHTTPHeaderField: "WWW-Authenticate")?.contains("resource_metadata=\"\(world.metadataURL)\"")
                == true)

        request.setValue("Bearer \(world.token("mcp:tools:climate"))", forHTTPHeaderField: "Authorization")
        let (body, ok) = try await session.data(for: request)
        #expect((ok as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("forecast for x"))

        // A head over the 32 KiB default is refused (431) before the body or the token are looked at.
        request.setValue(String(repeating: "a", count: 40_000), forHTTPHeaderField: "X-Padding")
        let (refusal, tooLarge) = try await session.data(for: request)
        #expect((tooLarge as? HTTPURLResponse)?.statusCode == 431)
        #expect(String(decoding: refusal, as: UTF8.self).contains("request.header_too_large"))
    }
}

final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func get() -> T { lock.withLock { value } }
    func set(_ v: T) { lock.withLock { value = v } }
}
