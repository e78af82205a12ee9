import Crypto
import Foundation
import ScopeGate
import ScopeGateURLSession
import Testing

@testable import ScopeGateTokens

@Suite struct JWKSCacheTests {
    let clock = TestClock()
    let keyA = TestKey.p256(P256.Signing.PrivateKey())
    let keyB = TestKey.p256(P256.Signing.PrivateKey())

    func body(_ keys: [[String: Any]]) -> [UInt8] { Array(jwksJSON(keys).utf8) }

    func ok(_ keys: [[String: Any]], cacheControl: String? = nil) -> HTTPResponse {
        HTTPResponse(status: 200, headers: cacheControl.map { ["Cache-Control": $0] } ?? [:], body: body(keys))
    }

    func verifier(_ fetcher: FakeFetcher, policy: JWKSCache.Policy = .init(), jwksURI: String? = testIssuer + "/jwks")
        -> TokenVerifier
    {
        let config = TokensConfig(issuers: [issuerConfig(algorithms: ["ES256"], jwksURI: jwksURI)])
        var issuer = config
        issuer.issuers[0].jwksURI = jwksURI
        return TokenVerifier(
            config: issuer, resource: testResource, options: .init(jwks: policy), fetcher: fetcher, clock: clock)
    }

    func token(_ kid: String, _ key: TestKey, extra: [String: Any] = [:]) -> String {
        sign(header: ["alg": "ES256", "kid": kid], claims: claims(clock, extra), key: key)
    }

    func code(_ v: TokenVerifier, _ token: String) async -> TokenError.Code? {
        await expectCode(.badSignature) { try await v.verify(token) }
    }

    @Test func lazyFetchThenCachedForMaxAge() async throws {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(
                status: 200, headers: ["cache-control": "public, max-age=600"],
                body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher)
        #expect(fetcher.requestCount == 0)  // nothing fetched at construction
        _ = try await v.verify(token("a", keyA))
        _ = try await v.verify(token("a", keyA))
        #expect(fetcher.requestCount == 1)
        clock.advance(599)
        _ = try await v.verify(token("a", keyA, extra: claims(clock)))
        #expect(fetcher.requestCount == 1)
        clock.advance(2)
        _ = try await v.verify(token("a", keyA, extra: claims(clock)))
        #expect(fetcher.requestCount == 2)
        #expect(fetcher.urls.allSatisfy { $0 == testIssuer + "/jwks" })
    }

    @Test func maxAgeIsClampedAndNoStoreUsesTheMinimum() async {
        let cache = JWKSCache(
            issuer: testIssuer, jwksURI: nil, policy: .init(defaultMaxAge: 300, minMaxAge: 60, maxMaxAge: 3600))
        #expect(await cache.maxAge(nil) == 300)
        #expect(await cache.maxAge("max-age=5") == 60)
        #expect(await cache.maxAge("public, max-age=999999") == 3600)
        #expect(await cache.maxAge("no-store") == 60)
        #expect(await cache.maxAge("max-age=garbage") == 300)
        #expect(await cache.maxAge("max-age=1200, must-revalidate") == 1200)
    }

    @Test func rotationPicksUpTheNewKeyOnUnknownKid() async throws {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(
                status: 200, headers: ["Cache-Control": "max-age=3600"],
                body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher)
        _ = try await v.verify(token("a", keyA))
        // The issuer rotates: publishes b (and keeps a).
        fetcher.set { [keyA, keyB] _ in
            HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a"), keyB.jwk(kid: "b")]).utf8))
        }
        clock.advance(61)  // beyond the unknown-kid refresh interval since the first fetch
        let verified = try await v.verify(token("b", keyB))
        #expect(verified.subject == "user-1")
        #expect(fetcher.requestCount == 2)
    }

    @Test func unknownKidRefreshIsRateLimited() async throws {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(
                status: 200, headers: ["Cache-Control": "max-age=3600"],
                body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher, policy: .init(unknownKidRefreshInterval: 60))
        _ = try await v.verify(token("a", keyA))
        clock.advance(61)
        // A storm of tokens with random unknown kids: at most one refresh per interval.
        for i in 0..<50 {
            #expect(await code(v, token("unknown-\(i)", keyB)) == .unknownKid)
        }
        #expect(fetcher.requestCount == 2)
        clock.advance(30)
        #expect(await code(v, token("unknown-x", keyB)) == .unknownKid)
        #expect(fetcher.requestCount == 2)
        clock.advance(31)
        #expect(await code(v, token("unknown-y", keyB)) == .unknownKid)
        #expect(fetcher.requestCount == 3)
    }

    @Test func concurrentUnknownKidsCoalesceIntoOneFetch() async throws {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher)
        let tokens = (0..<20).map { token("k\($0)", keyB) }
        await withTaskGroup(of: Void.self) { group in
            for t in tokens { group.addTask { _ = try? await v.verify(t) } }
        }
        #expect(fetcher.requestCount == 1)
    }

    @Test func endpointDownKeepsLastGoodThenFailsClosedAfterMaxStaleness() async throws {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(
                status: 200, headers: ["Cache-Control": "max-age=300"], body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8)
            )
        }
        let v = verifier(fetcher, policy: .init(failureRetryInterval: 10, maxStaleness: 3600))
        _ = try await v.verify(token("a", keyA))
        fetcher.set { _ in throw FakeFetcher.Down() }
        clock.advance(301)  // expired: a refresh is attempted and fails, last good set still serves
        _ = try await v.verify(token("a", keyA))
        #expect(fetcher.requestCount == 2)
        _ = try await v.verify(token("a", keyA))  // within the retry interval: no new attempt
        #expect(fetcher.requestCount == 2)
        fetcher.set { _ in HTTPResponse(status: 503, body: []) }
        clock.advance(11)
        _ = try await v.verify(token("a", keyA))
        #expect(fetcher.requestCount == 3)
        clock.advance(3600 - 11)  // now 300 + 3600 past the fetch: staleness exhausted
        #expect(await code(v, token("a", keyA)) == .keysUnavailable)
        // The endpoint comes back: keys are fetched again and tokens verify.
        fetcher.set { [keyA] _ in HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8)) }
        clock.advance(11)
        _ = try await v.verify(token("a", keyA))
    }

    @Test func neverFetchedFailsClosed() async {
        let fetcher = FakeFetcher { _ in throw FakeFetcher.Down() }
        let v = verifier(fetcher)
        #expect(await code(v, token("a", keyA)) == .keysUnavailable)
        #expect(await code(v, token("a", keyA)) == .keysUnavailable)
        #expect(fetcher.requestCount == 1)  // failure retry interval applies
    }

    @Test func bodyCapAndGarbageBodies() async {
        let big = FakeFetcher { _ in
            HTTPResponse(status: 200, body: Array(repeating: UInt8(ascii: " "), count: 300_000))
        }
        #expect(await code(verifier(big), token("a", keyA)) == .keysUnavailable)
        let dup = FakeFetcher { _ in HTTPResponse(status: 200, body: Array(#"{"keys":[],"keys":[]}"#.utf8)) }
        #expect(await code(verifier(dup), token("a", keyA)) == .keysUnavailable)
        let noKeys = FakeFetcher { _ in HTTPResponse(status: 200, body: Array(#"{"kys":[]}"#.utf8)) }
        #expect(await code(verifier(noKeys), token("a", keyA)) == .keysUnavailable)
    }

    @Test func jwksSkipsUnusableKeys() async throws {
        let set = try await keySet([
            ["kty": "oct", "k": "c2VjcmV0", "kid": "hmac"],
            keyA.jwk(kid: "enc", extra: ["use": "enc"]),
            ["kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB"],
            keyA.jwk(kid: "a"),
        ])
        #expect(set.keys.map(\.kid) == ["a"])
        #expect(set.ignoredCount == 3)
        #expect(set.keys.first?.algorithms == ["ES256"])
    }

    @Test func plainHTTPOffLoopbackIsRefused() async {
        let fetcher = FakeFetcher { [keyA] _ in
            HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher, jwksURI: "http://auth.example.com/jwks")
        #expect(await code(v, token("a", keyA)) == .keysUnavailable)
        #expect(fetcher.requestCount == 0)
        #expect(EndpointPolicy.isAllowed(URL(string: "http://127.0.0.1:8080/jwks")!))
        #expect(EndpointPolicy.isAllowed(URL(string: "http://localhost/jwks")!))
        #expect(!EndpointPolicy.isAllowed(URL(string: "ftp://auth.example.com/jwks")!))
    }

    @Test func discoveryOIDCThenRFC8414() async throws {
        #expect(
            JWKSCache.discoveryURLs(issuer: "https://auth.example.com/tenant/").map(\.absoluteString) == [
                "https://auth.example.com/tenant/.well-known/openid-configuration",
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant",
            ])
        let fetcher = FakeFetcher { [keyA] request in
            switch request.url.absoluteString {
            case testIssuer + "/.well-known/openid-configuration": return HTTPResponse(status: 404, body: [])
            case testIssuer + "/.well-known/oauth-authorization-server":
                return HTTPResponse(
                    status: 200, body: Array(json(["issuer": testIssuer, "jwks_uri": testIssuer + "/keys"]).utf8))
            case testIssuer + "/keys":
                return HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
            default: return HTTPResponse(status: 500, body: [])
            }
        }
        let v = verifier(fetcher, jwksURI: nil)
        _ = try await v.verify(token("a", keyA))
        #expect(
            fetcher.urls == [
                testIssuer + "/.well-known/openid-configuration",
                testIssuer + "/.well-known/oauth-authorization-server", testIssuer + "/keys",
            ])
    }

    @Test func discoveryDocumentForAnotherIssuerIsRefused() async {
        let fetcher = FakeFetcher { [keyA] request in
            if request.url.path.hasSuffix("openid-configuration") {
                return HTTPResponse(
                    status: 200,
                    body: Array(
                        json(["issuer": "https://evil.example.com", "jwks_uri": "https://evil.example.com/keys"]).utf8))
            }
            return HTTPResponse(status: 200, body: Array(jwksJSON([keyA.jwk(kid: "a")]).utf8))
        }
        let v = verifier(fetcher, jwksURI: nil)
        #expect(await code(v, token("a", keyA)) == .keysUnavailable)
        #expect(!fetcher.urls.contains("https://evil.example.com/keys"))
    }
}

/// One real fetch over HTTP from a server on 127.0.0.1 started by the test (python3 -m http.server).
@Suite struct JWKSRealHTTPTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func fetchesFromLoopbackServer() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = TestKey.ed25519(Curve25519.Signing.PrivateKey())
        try Data(jwksJSON([key.jwk(kid: "ed", alg: "EdDSA")]).utf8).write(to: dir.appendingPathComponent("jwks.json"))

        let port = try freeLoopbackPort()
        let server = try #require(
            spawnQuietly(
                "/usr/bin/python3",
                [
                    "-m", "http.server", String(port), "--bind", "127.0.0.1",
                    "--directory", dir.path,
                ]))
        defer { stopSpawned(server) }

        let base = "http://127.0.0.1:\(port)"
        let fetcher = URLSessionFetcher(timeout: 2)
        // Bounded wait for the server to listen (≤ 10 s).
        var up = false
        for _ in 0..<100 {
            if let r = try? await fetcher.fetch(
                HTTPRequest(url: URL(string: base + "/jwks.json")!, maxResponseBytes: 65_536)), r.status == 200
            {
                up = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(up, "http.server did not come up")

        let issuer = "https://issuer.test"
        let config = TokensConfig(issuers: [
            TokensConfig.Issuer(
                issuer: issuer, jwksURI: base + "/jwks.json", algorithms: ["EdDSA"],
                audiences: [testResource], location: here)
        ])
        let verifier = TokenVerifier(config: config, resource: testResource, fetcher: fetcher)
        let now = Int(Date().timeIntervalSince1970)
        let token = sign(
            header: ["alg": "EdDSA", "kid": "ed"],
            claims: ["iss": issuer, "aud": testResource, "exp": now + 60, "iat": now, "scope": "a b"], key: key)
        let verified = try await verifier.verify(token)
        #expect(verified.scopes == ["a", "b"])
        // The size cap holds on a real response too.
        let small = try? await fetcher.fetch(HTTPRequest(url: URL(string: base + "/jwks.json")!, maxResponseBytes: 10))
        #expect(small == nil)
    }
}

/// Asks the kernel for a free TCP port on 127.0.0.1.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = 0
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0
        }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: addr.sin_port))
}
