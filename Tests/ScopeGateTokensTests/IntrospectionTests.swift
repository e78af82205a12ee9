import Foundation
import ScopeGate
import Testing

@testable import ScopeGateTokens

@Suite struct IntrospectionTests {
    let clock = TestClock()
    let endpoint = "https://auth.example.com/introspect"

    func verifier(_ fetcher: FakeFetcher, env: [String: String] = ["MCP_INTROSPECTION_SECRET": "s3cr:et"])
        -> TokenVerifier
    {
        let issuer = issuerConfig(
            introspection: .init(
                endpoint: endpoint, clientID: "mcp server", clientSecretEnv: "MCP_INTROSPECTION_SECRET"))
        return TokenVerifier(
            config: TokensConfig(issuers: [issuer]), resource: testResource, fetcher: fetcher,
            clock: clock, environment: env)
    }

    func active(_ extra: [String: Any] = [:]) -> HTTPResponse {
        var body: [String: Any] = [
            "active": true, "iss": testIssuer, "aud": testResource, "client_id": "c1", "sub": "u1",
            "scope": "mcp:tools:climate read:files", "exp": Int(clock.now().timeIntervalSince1970) + 120,
        ]
        for (k, v) in extra { body[k] = v }
        return HTTPResponse(status: 200, body: Array(json(body).utf8))
    }

    @Test func activeTokenWithBasicAuthAndCachingUntilExp() async throws {
        let response = active()
        let fetcher = FakeFetcher { _ in response }
        let v = verifier(fetcher)
        let verified = try await v.verify("opaque-abc")
        #expect(verified.scopes == ["mcp:tools:climate", "read:files"])
        #expect(verified.clientID == "c1")
        let request = try #require(fetcher.requests.first)
        #expect(request.method == "POST")
        #expect(request.url.absoluteString == endpoint)
        // RFC 6749 §2.3.1: form-encode id and secret, then base64 "id:secret".
        #expect(request.headers["Authorization"] == "Basic " + Data("mcp+server:s3cr%3Aet".utf8).base64EncodedString())
        #expect(String(decoding: request.body, as: UTF8.self) == "token=opaque-abc&token_type_hint=access_token")
        _ = try await v.verify("opaque-abc")
        #expect(fetcher.requestCount == 1)
        clock.advance(181)  // exp + leeway
        #expect(await expectCode(.expired) { try await v.verify("opaque-abc") } == .expired)
        #expect(fetcher.requestCount == 2)
    }

    @Test func inactiveIsInvalidTokenAndBrieflyCached() async {
        let fetcher = FakeFetcher { _ in HTTPResponse(status: 200, body: Array(#"{"active":false}"#.utf8)) }
        let v = verifier(fetcher)
        #expect(await expectCode(.inactive) { try await v.verify("revoked") } == .inactive)
        #expect(await expectCode(.inactive) { try await v.verify("revoked") } == .inactive)
        #expect(fetcher.requestCount == 1)
        clock.advance(31)
        _ = await expectCode(.inactive) { try await v.verify("revoked") }
        #expect(fetcher.requestCount == 2)
    }

    @Test func claimsOfTheAnswerAreChecked() async {
        let cases: [([String: Any], TokenError.Code)] = [
            (["aud": "https://other"], .audienceMismatch),
            (["iss": "https://evil"], .issuerUntrusted),
            (["cnf": ["jkt": "x"]], .dpopUnsupported),
            (["active": "true"], .inactive),
        ]
        for (extra, code) in cases {
            let response = active(extra)
            let fetcher = FakeFetcher { _ in response }
            #expect(await expectCode(code) { try await verifier(fetcher).verify("t") } == code, "\(extra)")
        }
        let noAud = FakeFetcher { _ in HTTPResponse(status: 200, body: Array(#"{"active":true}"#.utf8)) }
        #expect(await expectCode(.audienceMissing) { try await verifier(noAud).verify("t") } == .audienceMissing)
    }

    @Test func failuresFailClosedAndAreNotCached() async {
        let down = FakeFetcher { _ in throw FakeFetcher.Down() }
        let v = verifier(down)
        #expect(await expectCode(.introspectionFailed) { try await v.verify("t") } == .introspectionFailed)
        #expect(await expectCode(.introspectionFailed) { try await v.verify("t") } == .introspectionFailed)
        #expect(down.requestCount == 2)
        let status = FakeFetcher { _ in HTTPResponse(status: 401, body: []) }
        #expect(
            await expectCode(.introspectionFailed) { try await verifier(status).verify("t") } == .introspectionFailed)
        let garbage = FakeFetcher { _ in HTTPResponse(status: 200, body: Array(#"{"active":true,"active":false}"#.utf8))
        }
        #expect(
            await expectCode(.introspectionFailed) { try await verifier(garbage).verify("t") } == .introspectionFailed)
        let ok = FakeFetcher { [self] _ in active() }
        #expect(
            await expectCode(.introspectionFailed) { try await verifier(ok, env: [:]).verify("t") }
                == .introspectionFailed)
        #expect(ok.requestCount == 0)  // no secret, no request
    }

    @Test func cacheIsBounded() async throws {
        let fetcher = FakeFetcher { [self] _ in active() }
        let issuer = issuerConfig(introspection: .init(endpoint: endpoint, clientID: "c", clientSecretEnv: "S"))
        let v = TokenVerifier(
            config: TokensConfig(issuers: [issuer]), resource: testResource,
            options: .init(introspection: .init(maxEntries: 2)), fetcher: fetcher, clock: clock,
            environment: ["S": "x"])
        for t in ["a", "b", "c", "a"] { _ = try await v.verify(t) }
        #expect(fetcher.requestCount == 4)  // "a" was evicted by "c"
    }
}
