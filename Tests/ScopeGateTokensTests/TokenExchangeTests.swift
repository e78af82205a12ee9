import Foundation
import ScopeGate
import Testing

@testable import ScopeGateTokens

@Suite struct TokenExchangeTests {
    let clock = TestClock()
    let endpoint = "https://auth.example.com/token"
    let api = "https://api.example.com"
    let env = ["EXCHANGE_SECRET": "s3cr:et"]

    func exchanger(
        _ server: ExchangeAuthorizationServer, auth: TokensConfig.Exchange.ClientAuthentication = .basic,
        target: TokensConfig.Exchange.Target = .audience, gate: Gate? = nil,
        env: [String: String]? = nil, endpoint: String? = nil
    ) -> TokenExchanger {
        let settings = TokensConfig.Exchange(
            endpoint: endpoint ?? self.endpoint, clientID: "mcp server",
            clientSecretEnv: "EXCHANGE_SECRET", clientAuthentication: auth, target: target)
        return TokenExchanger(
            issuer: testIssuer, settings: settings, fetcher: ExchangeFetcher(server: server, gate: gate),
            clock: clock, environment: env ?? self.env)
    }

    /// The error code of a failed exchange (nil when it succeeded).
    func failure(_ body: () async throws -> DownstreamToken) async -> TokenExchangeError? {
        do {
            _ = try await body()
            return nil
        } catch {
            return error as? TokenExchangeError
        }
    }

    // MARK: request

    @Test func sendsTheRFC8693ParametersWithBasicClientAuthentication() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let subject = server.subjectToken()
        let token = try await exchanger(server).exchange(
            subjectToken: subject, audience: api, scopes: ["api:write", "api:read"])
        let request = try #require(server.requests.first)
        #expect(request.value("grant_type") == "urn:ietf:params:oauth:grant-type:token-exchange")
        #expect(request.value("subject_token") == subject)
        #expect(request.value("subject_token_type") == "urn:ietf:params:oauth:token-type:access_token")
        #expect(request.value("requested_token_type") == "urn:ietf:params:oauth:token-type:access_token")
        #expect(request.values("audience") == [api])
        #expect(request.values("resource").isEmpty)
        #expect(request.value("scope") == "api:read api:write")
        #expect(request.value("client_secret") == nil)
        // RFC 6749 §2.3.1: form-encode id and secret, then base64 "id:secret".
        #expect(request.headers["Authorization"] == "Basic " + Data("mcp+server:s3cr%3Aet".utf8).base64EncodedString())
        #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded")

        #expect(token.accessToken == server.issuedTokens.first)
        #expect(token.accessToken != subject)
        #expect(token.issuedTokenType == "urn:ietf:params:oauth:token-type:access_token")
        #expect(token.audience == api)
        #expect(token.scopes == ["api:read", "api:write"])
        #expect(token.tokenID == "issued-2")
        #expect(token.expiresAt == clock.now().addingTimeInterval(300))
        #expect(token.cached == false)
        #expect(token.authorizationHeaderValue == "Bearer \(token.accessToken)")
        #expect(!token.description.contains(token.accessToken) && !"\(token)".contains(token.accessToken))
    }

    @Test func clientSecretPostPutsTheCredentialsInTheBodyOnly() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        _ = try await exchanger(server, auth: .post).exchange(
            subjectToken: server.subjectToken(), audience: api, scopes: ["api:read"])
        let request = try #require(server.requests.first)
        #expect(request.headers["Authorization"] == nil)
        #expect(request.value("client_id") == "mcp server")
        #expect(request.value("client_secret") == "s3cr:et")
    }

    @Test func targetSelectsAudienceResourceOrBoth() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let subject = server.subjectToken()
        _ = try await exchanger(server, target: .resource).exchange(subjectToken: subject, audience: api, scopes: [])
        _ = try await exchanger(server, target: .both).exchange(subjectToken: subject, audience: api, scopes: [])
        let requests = server.requests
        #expect(requests.count == 2)
        #expect(requests[0].values("audience").isEmpty && requests[0].values("resource") == [api])
        #expect(requests[1].values("audience") == [api] && requests[1].values("resource") == [api])
        // No scope requested: no `scope` parameter; the server's default (all allowed) is what the token carries.
        #expect(requests[0].value("scope") == nil)
    }

    // MARK: cache

    @Test func cachedPerCallerTokenAudienceAndScopesUntilExpiryMinusMargin() async throws {
        let server = ExchangeAuthorizationServer(
            clock: clock, targets: [api: ["api:read", "api:write"], "https://other.example.com": ["o"]])
        let exchanger = exchanger(server)
        let alice = server.subjectToken(lifetime: 3600)
        let bob = server.subjectToken(lifetime: 3600)
        let first = try await exchanger.exchange(subjectToken: alice, audience: api, scopes: ["api:read", "api:write"])
        let again = try await exchanger.exchange(
            subjectToken: alice, audience: api, scopes: ["api:write", "api:read", "api:read"])
        #expect(again.cached && again.accessToken == first.accessToken)
        #expect(server.requestCount == 1)
        // Another caller, other scopes, another audience: each its own exchange.
        let other = try await exchanger.exchange(subjectToken: bob, audience: api, scopes: ["api:read", "api:write"])
        #expect(other.accessToken != first.accessToken)
        _ = try await exchanger.exchange(subjectToken: alice, audience: api, scopes: ["api:read"])
        _ = try await exchanger.exchange(subjectToken: alice, audience: "https://other.example.com", scopes: ["o"])
        #expect(server.requestCount == 4)
        // Reused until 30 s (the margin) before `exp` (300 s), then exchanged again.
        clock.advance(269)
        #expect(
            try await exchanger.exchange(subjectToken: alice, audience: api, scopes: ["api:read", "api:write"]).cached)
        #expect(server.requestCount == 4)
        clock.advance(1)
        let renewed = try await exchanger.exchange(
            subjectToken: alice, audience: api, scopes: ["api:read", "api:write"])
        #expect(!renewed.cached && renewed.accessToken != first.accessToken)
        #expect(renewed.expiresAt == clock.now().addingTimeInterval(300))
        #expect(server.requestCount == 5)
        #expect(await exchanger.requestCount == 5)
    }

    @Test func neverCachedPastTheCallersTokenExpiry() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let exchanger = exchanger(server)
        let subject = server.subjectToken(lifetime: 3600)
        let callerExpiry = clock.now().addingTimeInterval(100)
        _ = try await exchanger.exchange(
            subjectToken: subject, audience: api, scopes: ["api:read"], subjectExpiresAt: callerExpiry)
        clock.advance(99)
        #expect(
            try await exchanger.exchange(
                subjectToken: subject, audience: api, scopes: ["api:read"], subjectExpiresAt: callerExpiry
            ).cached)
        clock.advance(1)
        #expect(
            try await exchanger.exchange(
                subjectToken: subject, audience: api, scopes: ["api:read"], subjectExpiresAt: callerExpiry
            ).cached == false)
        #expect(server.requestCount == 2)
    }

    @Test func expiryFromTheTokensExpWhenTheResponseHasNoExpiresIn() async throws {
        let issued =
            b64url(json(["alg": "RS256"])) + "."
            + b64url(json(["exp": Int(clock.now().timeIntervalSince1970) + 120, "jti": "j-9"])) + ".c2ln"
        let fetcher = FakeFetcher { _ in
            HTTPResponse(
                status: 200,
                body: Array(
                    json([
                        "access_token": issued, "issued_token_type": "urn:ietf:params:oauth:token-type:jwt",
                        "token_type": "bearer",
                    ]).utf8))
        }
        let settings = TokensConfig.Exchange(endpoint: endpoint, clientID: "c", clientSecretEnv: "EXCHANGE_SECRET")
        let exchanger = TokenExchanger(
            issuer: testIssuer, settings: settings, fetcher: fetcher, clock: clock, environment: env)
        let token = try await exchanger.exchange(subjectToken: "t", audience: api, scopes: ["api:read"])
        #expect(token.expiresAt == clock.now().addingTimeInterval(120))
        #expect(token.tokenID == "j-9")
        #expect(token.scopes == ["api:read"])  // no `scope` in the response: as requested
        clock.advance(90)  // 120 - 30 margin
        _ = try await exchanger.exchange(subjectToken: "t", audience: api, scopes: ["api:read"])
        #expect(fetcher.requestCount == 2)
    }

    // MARK: single flight

    @Test func oneHundredConcurrentCallsMakeOneRequest() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let gate = Gate()
        let exchanger = exchanger(server, gate: gate)
        let subject = server.subjectToken()
        let api = self.api
        let tokens = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try? await exchanger.exchange(subjectToken: subject, audience: api, scopes: ["api:read"])
                        .accessToken
                }
            }
            // Hold the one request until the 99 others have joined it (bounded: without single flight they never do).
            var spins = 0
            while await exchanger.joinedCount < 99, spins < 100_000 {
                await Task.yield()
                spins += 1
            }
            gate.release()
            var out: [String?] = []
            for await t in group { out.append(t) }
            return out
        }
        #expect(server.requestCount == 1)
        #expect(await exchanger.joinedCount == 99)
        #expect(tokens.count == 100)
        #expect(Set(tokens.compactMap { $0 }) == [server.issuedTokens[0]])
    }

    @Test func concurrentCallsShareAFailureAndFailuresAreNotCached() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let gate = Gate()
        let exchanger = exchanger(server, gate: gate)
        let subject = server.subjectToken()
        let api = self.api
        let codes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do throws(TokenExchangeError) {
                        _ = try await exchanger.exchange(subjectToken: subject, audience: api, scopes: ["api:admin"])
                        return "ok"
                    } catch {
                        return error.code.id
                    }
                }
            }
            var spins = 0
            while await exchanger.joinedCount < 9, spins < 100_000 {
                await Task.yield()
                spins += 1
            }
            gate.release()
            var out: [String] = []
            for await c in group { out.append(c) }
            return out
        }
        #expect(codes == Array(repeating: "exchange.invalid_scope", count: 10))
        #expect(server.requestCount == 1)
        _ = await failure { try await exchanger.exchange(subjectToken: subject, audience: api, scopes: ["api:admin"]) }
        #expect(server.requestCount == 2)
    }

    // MARK: errors

    @Test func eachAuthorizationServerErrorHasItsCode() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let good = exchanger(server)
        let subject = server.subjectToken(lifetime: 60)

        let target = await failure {
            try await good.exchange(subjectToken: subject, audience: "https://evil.example.com", scopes: [])
        }
        #expect(target?.code == .invalidTarget)
        #expect(target?.oauthError == "invalid_target")
        let resource = await failure {
            try await exchanger(server, target: .resource).exchange(
                subjectToken: subject, audience: "not a uri", scopes: [])
        }
        #expect(resource?.code == .invalidTarget)

        let scope = await failure {
            try await good.exchange(subjectToken: subject, audience: api, scopes: ["api:admin"])
        }
        #expect(scope?.code == .invalidScope)
        #expect(scope?.oauthError == "invalid_scope")

        let client = await failure {
            try await exchanger(server, env: ["EXCHANGE_SECRET": "wrong"]).exchange(
                subjectToken: subject, audience: api, scopes: [])
        }
        #expect(client?.code == .invalidClient)

        let grant = await failure { try await good.exchange(subjectToken: "never-issued", audience: api, scopes: []) }
        #expect(grant?.code == .invalidGrant)
        clock.advance(61)
        let expired = await failure { try await good.exchange(subjectToken: subject, audience: api, scopes: []) }
        #expect(expired?.code == .invalidGrant)
        #expect(server.requestCount == 6)

        // Nothing is sent without a secret or over plain http off loopback.
        let noSecret = await failure {
            try await exchanger(server, env: [:]).exchange(subjectToken: subject, audience: api, scopes: [])
        }
        #expect(noSecret?.code == .notConfigured)
        let insecure = await failure {
            try await exchanger(server, endpoint: "http://auth.example.com/token").exchange(
                subjectToken: subject, audience: api, scopes: [])
        }
        #expect(insecure?.code == .notConfigured)
        let empty = await failure { try await good.exchange(subjectToken: "", audience: api, scopes: []) }
        #expect(empty?.code == .noSubjectToken)
        #expect(server.requestCount == 6)
    }

    @Test func otherOAuthErrorsUnavailabilityAndBadResponses() async throws {
        let settings = TokensConfig.Exchange(endpoint: endpoint, clientID: "c", clientSecretEnv: "EXCHANGE_SECRET")
        func code(_ response: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) async -> TokenExchangeError? {
            let exchanger = TokenExchanger(
                issuer: testIssuer, settings: settings, fetcher: FakeFetcher(response), clock: clock,
                environment: env)
            return await failure {
                try await exchanger.exchange(subjectToken: "t", audience: api, scopes: ["api:read"])
            }
        }
        func body(_ status: Int, _ object: [String: Any]) -> @Sendable (HTTPRequest) throws -> HTTPResponse {
            let text = json(object)
            return { _ in HTTPResponse(status: status, body: Array(text.utf8)) }
        }
        let ok: [String: Any] = [
            "access_token": "a.b.c", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer", "expires_in": 60,
        ]
        #expect(await code(body(400, ["error": "unsupported_grant_type"]))?.code == .rejected)
        #expect(await code(body(400, ["error": "invalid_request"]))?.oauthError == "invalid_request")
        #expect(await code(body(503, ["error": "temporarily_unavailable"]))?.code == .unavailable)
        #expect(await code(body(429, [:]))?.code == .unavailable)
        #expect(await code(body(400, [:]))?.code == .unavailable)  // no OAuth error JSON: not an answer we can map
        #expect(await code { _ in throw FakeFetcher.Down() }?.code == .unavailable)
        #expect(await code { _ in HTTPResponse(status: 200, body: Array("not json".utf8)) }?.code == .invalidResponse)
        #expect(
            await code { _ in HTTPResponse(status: 200, body: Array(#"{"access_token":"a","access_token":"b"}"#.utf8))
            }?.code == .invalidResponse)
        var missing = ok
        missing["issued_token_type"] = nil
        #expect(await code(body(200, missing))?.code == .invalidResponse)
        var refreshType = ok
        refreshType["issued_token_type"] = "urn:ietf:params:oauth:token-type:refresh_token"
        #expect(await code(body(200, refreshType))?.code == .invalidResponse)
        var notBearer = ok
        notBearer["token_type"] = "N_A"
        #expect(await code(body(200, notBearer))?.code == .invalidResponse)
        var headerInjection = ok
        headerInjection["access_token"] = "abc\r\nX-Evil: 1"
        #expect(await code(body(200, headerInjection))?.code == .invalidResponse)
        var negative = ok
        negative["expires_in"] = -5
        #expect(await code(body(200, negative))?.code == .invalidResponse)
        #expect(await code(body(200, ok)) == nil)
    }

    // MARK: the fake is honest

    @Test func theFakeAuthorizationServerRejectsMalformedRequests() async throws {
        let server = ExchangeAuthorizationServer(clock: clock)
        let subject = server.subjectToken()
        let basic = "Basic " + Data("mcp+server:s3cr%3Aet".utf8).base64EncodedString()
        func post(_ body: String, headers: [String: String]? = nil) -> String? {
            let request = HTTPRequest(
                method: "POST", url: URL(string: endpoint)!,  // a literal URL in a test
                headers: headers ?? ["Authorization": basic, "Content-Type": "application/x-www-form-urlencoded"],
                body: Array(body.utf8), maxResponseBytes: 65536)
            let response = server.handle(request)
            guard response.status != 200 else { return nil }
            return (try? StrictJSON.parseObject(response.body, maxDepth: 4))?["error"]?.stringValue
        }
        let grant = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange"
        let type = "subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aaccess_token"
        let target = "audience=https%3A%2F%2Fapi.example.com"
        #expect(post("\(grant)&subject_token=\(subject)&\(type)&\(target)") == nil)
        #expect(
            post("grant_type=client_credentials&subject_token=\(subject)&\(type)&\(target)") == "unsupported_grant_type"
        )
        #expect(post("\(grant)&\(type)&\(target)") == "invalid_request")
        #expect(post("\(grant)&subject_token=\(subject)&\(target)") == "invalid_request")
        #expect(
            post(
                "\(grant)&subject_token=\(subject)&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token&\(target)"
            ) == "invalid_request")
        #expect(post("\(grant)&subject_token=\(subject)&\(type)") == "invalid_target")
        #expect(post("\(grant)&\(grant)&subject_token=\(subject)&\(type)&\(target)") == "invalid_request")
        #expect(
            post("\(grant)&subject_token=\(subject)&\(type)&\(target)&client_id=mcp+server&client_secret=s3cr%3Aet")
                == "invalid_request")
        #expect(
            post(
                "\(grant)&subject_token=\(subject)&\(type)&\(target)",
                headers: ["Content-Type": "application/x-www-form-urlencoded"]) == "invalid_client")
        #expect(
            post(
                "\(grant)&subject_token=\(subject)&\(type)&\(target)",
                headers: ["Authorization": basic, "Content-Type": "application/json"]) == "invalid_request")
    }
}

@Suite struct TokenExchangeProviderProfileTests {
    let clock = TestClock()

    @Test func entraOnBehalfOfSendsTheJWTBearerGrantAndAcceptsNoIssuedTokenType() async throws {
        let fetcher = FakeFetcher { _ in
            HTTPResponse(
                status: 200,
                body: Array(
                    json([
                        "access_token": "eyJ.obo.sig", "token_type": "Bearer", "expires_in": 3599,
                        "scope": "api://crm/Clients.Write",
                    ]).utf8))
        }
        let settings = TokensConfig.Exchange(
            endpoint: "https://login.microsoftonline.com/t/oauth2/v2.0/token", clientID: "app",
            clientSecretEnv: "S", clientAuthentication: .post, grant: .onBehalfOf)
        let exchanger = TokenExchanger(
            issuer: testIssuer, settings: settings, fetcher: fetcher, clock: clock, environment: ["S": "x"])
        let token = try await exchanger.exchange(
            subjectToken: "caller", audience: "api://crm", scopes: ["api://crm/Clients.Write"])
        #expect(token.scopes == ["api://crm/Clients.Write"])
        let body = String(decoding: try #require(fetcher.requests.first).body, as: UTF8.self)
        #expect(
            body == "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=caller"
                + "&requested_token_use=on_behalf_of&scope=api%3A%2F%2Fcrm%2FClients.Write&client_id=app&client_secret=x"
        )
        // RFC 8693 proper still requires `issued_token_type`.
        let strict = TokenExchanger(
            issuer: testIssuer,
            settings: TokensConfig.Exchange(endpoint: settings.endpoint, clientID: "app", clientSecretEnv: "S"),
            fetcher: fetcher, clock: clock, environment: ["S": "x"])
        do throws(TokenExchangeError) {
            _ = try await strict.exchange(subjectToken: "caller", audience: "api://crm", scopes: [])
            Issue.record("accepted a response without issued_token_type")
        } catch {
            #expect(error.code == .invalidResponse)
        }
    }

    @Test func auth0CustomSubjectTokenType() async throws {
        let fetcher = FakeFetcher { _ in
            HTTPResponse(
                status: 200,
                body: Array(
                    json([
                        "access_token": "a.b.c", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                        "token_type": "Bearer", "expires_in": 86400,
                    ]).utf8))
        }
        let settings = TokensConfig.Exchange(
            endpoint: "https://acme.us.auth0.com/oauth/token", clientID: "c", clientSecretEnv: "S",
            subjectTokenType: "urn:acme:mcp-access-token")
        let exchanger = TokenExchanger(
            issuer: testIssuer, settings: settings, fetcher: fetcher, clock: clock, environment: ["S": "x"])
        _ = try await exchanger.exchange(subjectToken: "caller", audience: "https://crm.example.com", scopes: [])
        let body = String(decoding: try #require(fetcher.requests.first).body, as: UTF8.self)
        #expect(body.contains("subject_token_type=urn%3Aacme%3Amcp-access-token&"))
    }
}
