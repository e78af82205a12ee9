import Foundation
import ScopeGate
import ScopeGateClient
import ScopeGateRequestAuthorization
import ScopeGateTokens
import Testing

@Suite struct TokenStoreTests {
    func directory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("sg-store-\(UUID().uuidString)")
    }

    let key = TokenStore.Key(issuer: "https://as.test", resource: "https://mcp.test/mcp", scopes: ["b", "a", "a"])

    @Test func tokensAreEncryptedAtRestAndTheKeyFileIsPrivate() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock()
        let store = try TokenStore(directory: dir, environment: [:], clock: clock.function)
        let token = IssuedToken(
            accessToken: "AT-secret-value", scopes: ["a", "b"], expiresAt: clock.now.addingTimeInterval(3600),
            refreshToken: "RT-secret-value")
        try store.save(token, for: key)
        #expect(try store.lookup(key) == .fresh(token))
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            let bytes = FileManager.default.contents(atPath: dir.appendingPathComponent(name).path) ?? Data()
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("secret-value"))
            let mode =
                (try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(name).path)[
                    .posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
        }
        // Another scope set is another entry; the same key from another store instance reads it.
        #expect(try store.lookup(TokenStore.Key(issuer: key.issuer, resource: key.resource, scopes: ["a"])) == .missing)
        #expect(try TokenStore(directory: dir, environment: [:], clock: clock.function).lookup(key) == .fresh(token))
        // A store with another key cannot read it (and drops it).
        let other = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        #expect(
            try TokenStore(directory: dir, environment: [TokenStore.keyVariable: other], clock: clock.function)
                .lookup(key) == .missing)
    }

    @Test func staleEntriesAreRefreshableOrDroppedAndExpiredOnesAreNeverStored() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock()
        let store = try TokenStore(directory: dir, environment: [:], clock: clock.function)
        let withRefresh = IssuedToken(
            accessToken: "a", scopes: ["a", "b"], expiresAt: clock.now.addingTimeInterval(600), refreshToken: "r")
        try store.save(withRefresh, for: key)
        clock.advance(600)
        #expect(try store.lookup(key) == .stale(withRefresh))
        var plain = withRefresh
        plain.refreshToken = nil
        plain.expiresAt = clock.now.addingTimeInterval(600)
        try store.save(plain, for: key)
        clock.advance(600)
        #expect(try store.lookup(key) == .missing)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["key"])
        plain.expiresAt = clock.now.addingTimeInterval(-1)
        try store.save(plain, for: key)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["key"])
    }

    @Test func aKeyFileOthersCanReadIsRefused() throws {
        let dir = directory()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try TokenStore(directory: dir, environment: [:])
        let keyFile = dir.appendingPathComponent("key").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: keyFile)
        #expect(throws: ClientError.self) { _ = try TokenStore(directory: dir, environment: [:]) }
        #expect(throws: ClientError.self) {
            _ = try TokenStore(directory: dir, environment: [TokenStore.keyVariable: "short"])
        }
    }
}

@Suite struct GrantAndStepUpTests {
    func tokenRoute(_ handler: @escaping @Sendable ([String: String]) -> String) -> FakeNetwork.Route {
        { r in r.url.absoluteString == issuer + "/token" ? FakeNetwork.json(handler(form(r))) : nil }
    }

    @Test func clientCredentialsSendResourceAndBasicAuthentication() async throws {
        let network = FakeNetwork(
            discoveryRoutes() + [
                tokenRoute { f in
                    #"{"access_token":"T-\#(f["scope"] ?? "")","token_type":"Bearer","expires_in":60}"#
                }
            ])
        let client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s e"),
            grant: .clientCredentials, fetcher: network)
        let discovered = try await client.discover()
        let token = try await client.token(scopes: ["b", "a"], discovered: discovered)
        #expect(token.accessToken == "T-a b")
        #expect(token.scopes == ["a", "b"])  // no `scope` in the answer: the requested ones
        guard let request = network.requests.last else { return }
        #expect(form(request)["resource"] == "https://mcp.test/mcp")
        #expect(form(request)["grant_type"] == "client_credentials")
        #expect(request.headers["Authorization"] == "Basic " + Data("id:s%20e".utf8).base64EncodedString())
    }

    @Test func refreshRotatesTheRefreshToken() async throws {
        let network = FakeNetwork(
            discoveryRoutes() + [
                tokenRoute { f in
                    f["refresh_token"] == "r1"
                        ? #"{"access_token":"A2","refresh_token":"r2","expires_in":600,"scope":"a"}"#
                        : #"{"error":"invalid_grant"}"#
                }
            ])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-refresh-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let clock = TestClock()
        let store = try TokenStore(directory: dir, environment: [:], clock: clock.function)
        var client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s"),
            grant: .clientCredentials, fetcher: network, clock: clock.function)
        client.store = store
        let discovered = try await client.discover()
        let key = TokenStore.Key(issuer: issuer, resource: "https://mcp.test/mcp", scopes: ["a"])
        try store.save(
            IssuedToken(
                accessToken: "A1", scopes: ["a"], expiresAt: clock.now.addingTimeInterval(60), refreshToken: "r1"),
            for: key)
        clock.advance(120)
        let fresh = try await client.token(scopes: ["a"], discovered: discovered)
        #expect(fresh.accessToken == "A2")
        #expect(fresh.refreshToken == "r2")
        guard case .fresh(let stored) = try store.lookup(key) else {
            Issue.record("not stored")
            return
        }
        #expect(stored.refreshToken == "r2")
    }

    @Test func a403StepsUpOnceWithTheUnionThenSucceeds() async throws {
        let network = FakeNetwork(
            discoveryRoutes() + [
                tokenRoute { f in #"{"access_token":"T:\#(f["scope"] ?? "")","expires_in":600}"# },
                { r in
                    guard r.url.absoluteString == "http://127.0.0.1:8/mcp/call" else { return nil }
                    if r.headers["Authorization"]?.contains("c") == true { return FakeNetwork.json("{}") }
                    return FakeNetwork.json(
                        "{}", status: 403,
                        headers: ["WWW-Authenticate": #"Bearer error="insufficient_scope", scope="b c""#])
                },
            ])
        let client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s"),
            grant: .clientCredentials, fetcher: network)
        let discovered = try await client.discover()
        let token = try await client.token(scopes: ["a", "b"], discovered: discovered)
        guard let call = URL(string: "http://127.0.0.1:8/mcp/call") else { return }
        let (answer, held, stepUps) = try await client.send(
            HTTPRequest(method: "POST", url: call, maxResponseBytes: 1024), token: token, discovered: discovered)
        #expect(answer.status == 200)
        #expect(stepUps == 1)
        #expect(held.scopes == ["a", "b", "c"])
    }

    @Test func stepUpIsBoundedAndStopsWhenNothingNewIsAsked() async throws {
        let calls = Locked(0)
        let network = FakeNetwork(
            discoveryRoutes() + [
                tokenRoute { _ in #"{"access_token":"T","expires_in":600}"# },
                { r in
                    guard r.url.absoluteString == "http://127.0.0.1:8/mcp/call" else { return nil }
                    let n = calls.withLock {
                        $0 += 1
                        return $0
                    }  // every retry asks for one more scope
                    return FakeNetwork.json(
                        "{}", status: 403,
                        headers: ["WWW-Authenticate": #"Bearer error="insufficient_scope", scope="s\#(n)""#])
                },
            ])
        let client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s"),
            grant: .clientCredentials, fetcher: network)
        let discovered = try await client.discover()
        let token = try await client.token(scopes: ["a"], discovered: discovered)
        guard let call = URL(string: "http://127.0.0.1:8/mcp/call") else { return }
        await #expect(throws: ClientError.self) {
            _ = try await client.send(
                HTTPRequest(method: "POST", url: call, maxResponseBytes: 1024), token: token, discovered: discovered)
        }
        let same = HTTPResponse(
            status: 403, headers: ["WWW-Authenticate": #"Bearer error="insufficient_scope", scope="a""#], body: [])
        #expect(StepUp.scopes(held: ["a", "b"], response: same) == nil)
        #expect(StepUp.scopes(held: ["a"], response: HTTPResponse(status: 401, body: [])) == nil)
    }
}

@Suite struct PlanWithoutDocumentTests {
    /// No public document: a first token for `scopes_supported` lists the tools, whose `_meta` gives the plan.
    @Test func aFirstTokenForScopesSupportedListsTheToolsThenTheLeastSet() async throws {
        let network = FakeNetwork(
            discoveryRoutes() + [
                { r in
                    r.url.absoluteString == issuer + "/token"
                        ? FakeNetwork.json(#"{"access_token":"first:\#(form(r)["scope"] ?? "")","expires_in":600}"#)
                        : nil
                }
            ])
        let listedWith = Locked<String?>(nil)
        var client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s"),
            grant: .clientCredentials, fetcher: network)
        client.listTools = { _, token in
            listedWith.withLock { $0 = token }
            return PublishedRequirements.entries(for: ["read_file", "either", "export_report"], in: serverPolicy)
        }
        let discovered = try await client.discover()
        #expect(discovered.document == nil)
        let plan = try await client.plan(tools: ["either", "export_report"], discovered: discovered)
        #expect(listedWith.withLock { $0 } == "first:s1 s2")
        #expect(plan.scopes == ["reports:export", "reports:read"])
        #expect(plan.source == .published)
        #expect(plan.notes.first?.contains("tools/list") == true)
    }

    @Test func aLinkedDocumentIsUsedWithoutAnyToken() async throws {
        guard let document = PublishedRequirements.document(policy: serverPolicy) else {
            Issue.record("no document")
            return
        }
        let network = FakeNetwork(
            discoveryRoutes(extraMetadata: #","io.scopegate/requirements_uri":"http://127.0.0.1:8/req""#) + [
                { r in r.url.absoluteString == "http://127.0.0.1:8/req" ? FakeNetwork.json(document.jsonText) : nil }
            ])
        var client = TokenClient(
            resource: resourceURL, registration: ClientRegistration(clientID: "id", clientSecret: "s"),
            grant: .clientCredentials, fetcher: network)
        client.listTools = { _, _ throws(ClientError) in throw ClientError(.http, "must not list") }
        let discovered = try await client.discover()
        let plan = try await client.plan(tools: ["ops_run_report"], discovered: discovered)
        #expect(plan.scopes == ["ops:run"])
        #expect(!network.requests.contains { $0.url.absoluteString.hasSuffix("/token") })
    }
}
