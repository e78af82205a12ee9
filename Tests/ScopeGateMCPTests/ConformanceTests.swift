import Foundation
import MCP
import Testing

@testable import climate_server

/// The official conformance scenarios: server scope challenge and token audience validation, each asserting
/// the exact `WWW-Authenticate`.
@Suite struct ConformanceTests {
    let initialize =
        #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#

    @Test func missingTokenIs401WithMetadataAndScope() async throws {
        let world = try World()
        let response = await world.post(initialize, token: nil)
        #expect(response.statusCode == 401)
        #expect(
            response.wwwAuthenticate == "Bearer resource_metadata=\"\(world.metadataURL)\", scope=\"mcp:tools:climate\""
        )
    }

    @Test func missingTokenOnAKnownToolAddsItsLeastPrivilege() async throws {
        let world = try World()
        let response = await world.post(toolCall("read_client", ["client_id": "1"]), token: nil)
        #expect(response.statusCode == 401)
        #expect(
            response.wwwAuthenticate
                == "Bearer resource_metadata=\"\(world.metadataURL)\", scope=\"mcp:tools:climate mcp:data:client-info:read\""
        )
    }

    func expectInvalidToken(_ world: World, _ token: String, _ description: String) async {
        let response = await world.post(initialize, token: token)
        #expect(response.statusCode == 401)
        #expect(
            response.wwwAuthenticate
                == "Bearer error=\"invalid_token\", error_description=\"\(description)\", resource_metadata=\"\(world.metadataURL)\", scope=\"mcp:tools:climate\""
        )
    }

    @Test func wrongAudienceIs401() async throws {
        let world = try World()
        let token = world.authorizationServer.token(scope: "mcp:tools:climate", audience: "https://other.test/mcp")
        await expectInvalidToken(world, token, "token is not for this resource (`aud`)")
    }

    @Test func missingAudienceIs401() async throws {
        let world = try World()
        let token = world.authorizationServer.token(scope: "mcp:tools:climate", audience: nil)
        await expectInvalidToken(world, token, "token has no `aud` claim")
    }

    @Test func expiredTokenIs401() async throws {
        let world = try World()
        let token = world.authorizationServer.token(
            scope: "mcp:tools:climate", audience: world.resource, lifetime: 60,
            now: Date().addingTimeInterval(-3600))
        await expectInvalidToken(world, token, "token has expired")
    }

    @Test func keyNotInTrustedJWKSIs401() async throws {
        let world = try World()
        let token = world.authorizationServer.token(scope: "mcp:tools:climate", audience: world.resource, key: .rogue)
        await expectInvalidToken(world, token, "no key with `kid` `rogue-key` in the issuer's key set")
    }

    @Test func garbageTokenIs401() async throws {
        let world = try World()
        let response = await world.post(initialize, token: "not.a.jwt")
        #expect(response.statusCode == 401)
        #expect(response.wwwAuthenticate?.hasPrefix("Bearer error=\"invalid_token\"") == true)
    }

    @Test func insufficientScopeIs403WithTheScopesTheCallNeeds() async throws {
        let world = try World()
        let response = await world.post(
            toolCall("read_client", ["client_id": "1"]), token: world.token("mcp:tools:climate"))
        #expect(response.statusCode == 403)
        #expect(
            response.wwwAuthenticate
                == "Bearer error=\"insufficient_scope\", scope=\"mcp:data:client-info:read\", resource_metadata=\"\(world.metadataURL)\", error_description=\"additional scope required for `read_client`\""
        )
        let body = try #require(response.bodyData.flatMap { String(data: $0, encoding: .utf8) })
        #expect(body.contains("-32003"))
        #expect(body.contains("insufficient_scope: `read_client` needs mcp:data:client-info:read"))
    }

    @Test func insufficientScopeIs403WithGrantedPlusMissingWhenConfigured() async throws {
        let world = try World(challengeScope: .grantedPlusMissing)
        let response = await world.post(
            toolCall("read_client", ["client_id": "1"]), token: world.token("mcp:tools:climate"))
        #expect(response.statusCode == 403)
        #expect(
            response.wwwAuthenticate
                == "Bearer error=\"insufficient_scope\", scope=\"mcp:tools:climate mcp:data:client-info:read\", resource_metadata=\"\(world.metadataURL)\", error_description=\"additional scope required for `read_client`\""
        )
    }

    @Test func aRevisionTheSwiftSDKDoesNotSpeakIs400WithTheSupportedList() async throws {
        let world = try World()
        let response = await world.post(
            toolCall("get_forecast", ["location": "x"]), token: world.token("mcp:tools:climate"),
            headers: ["MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "get_forecast"])
        #expect(response.statusCode == 400)
        let body = try #require(response.bodyData.flatMap { String(data: $0, encoding: .utf8) })
        #expect(body.contains("-32022"))
        #expect(body.contains("2025-11-25"))
    }

    @Test func argumentDependentRequirement() async throws {
        let world = try World()
        let token = world.token("read:files")
        let read = await world.post(toolCall("file_manager", ["action": "read", "path": "/tmp/a"]), token: token)
        #expect(read.statusCode == 200)
        let etc = await world.post(toolCall("file_manager", ["action": "read", "path": "/etc/passwd"]), token: token)
        #expect(etc.statusCode == 403)
        #expect(etc.wwwAuthenticate?.contains("scope=\"admin:system read:files\"") == true)
        let unknown = await world.post(toolCall("file_manager", ["action": "chmod", "path": "/a"]), token: token)
        #expect(unknown.statusCode == 403)
        #expect(unknown.wwwAuthenticate == nil)  // no scope helps: no step-up challenge
    }

    @Test func batchDeniedIfAnyElementIsWithUnionOfMissing() async throws {
        let world = try World()
        let batch =
            "[" + toolCall("get_forecast", ["location": "x"], id: 1) + ","
            + toolCall("read_client", ["client_id": "1"], id: 2)
            + "," + toolCall("automation_run_report", [:], id: 3) + "]"
        let response = await world.post(batch, token: world.token("mcp:tools:climate"))
        #expect(response.statusCode == 403)
        #expect(
            response.wwwAuthenticate?.contains(
                "scope=\"mcp:data:client-info:read mcp:operations:automation:workflows:run\"") == true
        )
    }

    @Test func headerHintsMustMatchTheBody() async throws {
        let world = try World()
        let token = world.token("mcp:tools:climate")
        let body = toolCall("get_forecast", ["location": "x"])
        let ok = await world.post(
            body, token: token, headers: ["Mcp-Method": "tools/call", "Mcp-Name": "get_forecast"])
        #expect(ok.statusCode == 200)
        let lying = await world.post(
            body, token: token, headers: ["Mcp-Method": "tools/call", "Mcp-Name": "health_check"])
        #expect(lying.statusCode == 400)
        let wrongMethod = await world.post(body, token: token, headers: ["Mcp-Method": "tools/list"])
        #expect(wrongMethod.statusCode == 400)
    }

    @Test func duplicateKeysAreRefused() async throws {
        let world = try World()
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_forecast","name":"read_client"}}"#
        let response = await world.post(body, token: world.token("mcp:tools:climate"))
        #expect(response.statusCode == 400)
    }

    @Test func thePublicRequirementsDocumentIsServedWhereTheMetadataLinksIt() async throws {
        let source = try String(contentsOfFile: climatePolicyPath, encoding: .utf8)
            .replacingOccurrences(
                of: "  scopes_supported: auto\n", with: "  scopes_supported: auto\n  publish_requirements: true\n")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("climate-\(UUID().uuidString).yaml")
            .path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let world = try World(policyPath: path)
        let metadata = await world.app.gateway.handle(
            MCP.HTTPRequest(method: "GET", path: "/.well-known/oauth-protected-resource/mcp"))
        let object = try #require(
            try JSONSerialization.jsonObject(with: metadata.bodyData ?? Data()) as? [String: Any])
        let link = try #require(object["io.scopegate/requirements_uri"] as? String)
        let linked = try #require(URL(string: link))
        let response = await world.app.gateway.handle(MCP.HTTPRequest(method: "GET", path: linked.path))
        #expect(response.statusCode == 200)
        let document = try #require(
            try JSONSerialization.jsonObject(with: response.bodyData ?? Data()) as? [String: Any])
        let tools = try #require(document["tools"] as? [String: Any])
        #expect(tools["read_client"] != nil)
        // Without the opt-in there is no document.
        let plain = try World()
        let absent = await plain.app.gateway.handle(MCP.HTTPRequest(method: "GET", path: linked.path))
        #expect(absent.statusCode == 404)
    }

    @Test func protectedResourceMetadataAtPathAndRootForms() async throws {
        let world = try World()
        for path in ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"] {
            let response = await world.app.gateway.handle(MCP.HTTPRequest(method: "GET", path: path))
            #expect(response.statusCode == 200)
            let object = try #require(
                try JSONSerialization.jsonObject(with: response.bodyData ?? Data()) as? [String: Any])
            #expect(object["resource"] as? String == world.resource)
            #expect(object["authorization_servers"] as? [String] == [world.authorizationServer.issuer])
            #expect(object["scopes_supported"] as? [String] == ["mcp:tools:climate"])
            #expect(object["bearer_methods_supported"] as? [String] == ["header"])
        }
    }

    @Test func auditNeverHoldsTheTokenAndRedactsArguments() async throws {
        let world = try World()
        let token = world.token("mcp:data:client-info:read read:files")
        _ = await world.post(toolCall("read_client", ["client_id": "secret-id"]), token: token)
        _ = await world.post(
            toolCall("file_manager", ["action": "read", "path": "/tmp/x", "content": "pw"]), token: token)
        let events = world.audit.events
        #expect(events.count == 2)
        #expect(events[0].arguments["client_id"] == .string("[redacted]"))
        #expect(events[1].arguments["path"] == .string("/tmp/x"))
        #expect(events[1].arguments["content"] == .string("[redacted]"))
        for event in events {
            #expect(!event.json.contains(token))
            #expect(!event.json.contains(String(token.split(separator: ".")[2])))
            #expect(event.clientID == "climate-bot")
        }
    }
}
