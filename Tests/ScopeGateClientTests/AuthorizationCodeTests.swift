import Foundation
import ScopeGate
import ScopeGateClient
import ScopeGateTokens
import ScopeGateURLSession
import Testing

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

@Suite struct PKCETests {
    @Test func theRFC7636VectorAndFreshVerifiers() throws {
        let pair = PKCE(verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(pair.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let a = PKCE()
        let b = PKCE()
        #expect(a.verifier.count == 43)  // 32 bytes, base64url without padding
        #expect(a.verifier != b.verifier)
        try PKCE.check(method: "S256")
        #expect(throws: ClientError.self) { try PKCE.check(method: "plain") }
    }
}

@Suite struct StateTests {
    @Test func aStateIsAcceptedOnceAndOnlyInTime() async throws {
        let clock = TestClock()
        let book = StateBook(lifetime: 60, clock: clock.function)
        let state = await book.issue()
        #expect(
            Data(
                base64Encoded: state.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                    + "=")?.count == 32)
        try await book.consume(state)
        await #expect(throws: ClientError(.state, "the redirect's `state` was already used; refusing a replay")) {
            try await book.consume(state)
        }
        await #expect(throws: ClientError.self) { try await book.consume("forged") }
        await #expect(throws: ClientError.self) { try await book.consume(nil) }
        let late = await book.issue()
        clock.advance(61)
        await #expect(throws: ClientError.self) { try await book.consume(late) }
    }
}

@Suite struct RedirectURITests {
    @Test(arguments: ["http://127.0.0.1:5000/callback", "https://app.example.com/cb", "http://[::1]:9/cb"])
    func valid(uri: String) throws { try RedirectURI.validate(uri) }

    @Test(arguments: [
        "http://example.com/cb", "http://localhost:9/cb", "https://app.example.com/cb#x",
        "https://user:pw@app.example.com/cb", "https://user@app.example.com/cb", "myapp:/cb", "not a url",
    ])
    func invalid(uri: String) {
        #expect(throws: ClientError.self) { try RedirectURI.validate(uri) }
    }

    @Test func matchingIsExact() {
        let sent = "http://127.0.0.1:5000/callback"
        #expect(RedirectURI.matches(sent: sent, received: sent + "?code=x&state=y"))
        #expect(!RedirectURI.matches(sent: sent, received: "http://127.0.0.1:5000/callbacK?code=x"))
        #expect(!RedirectURI.matches(sent: sent, received: "http://127.0.0.1:5000/callback/?code=x"))
    }
}

@Suite struct AuthorizationCodeFlowTests {
    func flow() throws -> AuthorizationCodeFlow {
        let server = try AuthorizationServerMetadata(
            json: JSONParser().parse(
                #"{"issuer":"https://as.test","token_endpoint":"https://as.test/token","authorization_endpoint":"https://as.test/authorize"}"#
            ), expectedIssuer: "https://as.test")
        let oauth = OAuthClient(
            server: server, registration: ClientRegistration(clientID: "cli"), fetcher: FakeNetwork([]))
        return AuthorizationCodeFlow(oauth: oauth, present: { _ in })
    }

    @Test func theRequestCarriesS256StateAndResource() async throws {
        let flow = try flow()
        let pkce = PKCE()
        let request = try await flow.authorizationURL(
            scopes: ["a", "b"], resource: "https://mcp.test/mcp", redirectURI: "http://127.0.0.1:5000/cb", pkce: pkce)
        let text = request.url.absoluteString
        #expect(text.hasPrefix("https://as.test/authorize?response_type=code&client_id=cli"))
        #expect(text.contains("code_challenge=\(pkce.challenge)&code_challenge_method=S256"))
        #expect(text.contains("resource=https%3A%2F%2Fmcp.test%2Fmcp"))
        #expect(text.contains("scope=a%20b"))
        #expect(text.contains("state=\(request.state)"))
        #expect(!text.contains(pkce.verifier))
        await #expect(throws: ClientError.self) {
            _ = try await flow.authorizationURL(
                scopes: [], resource: "r", redirectURI: "http://127.0.0.1:5000/cb", pkce: pkce, method: "plain")
        }
        await #expect(throws: ClientError.self) {
            _ = try await flow.authorizationURL(
                scopes: [], resource: "r", redirectURI: "http://evil.test/cb", pkce: pkce)
        }
    }

    @Test func redirectsAreCheckedBeforeTheCodeIsRedeemed() async throws {
        let flow = try flow()
        let uri = "http://127.0.0.1:5000/cb"
        let request = try await flow.authorizationURL(scopes: [], resource: "r", redirectURI: uri, pkce: PKCE())
        await #expect(throws: ClientError.self) {  // one character off
            _ = try await flow.redeemable("http://127.0.0.1:5000/cc?code=c&state=\(request.state)", for: request)
        }
        await #expect(throws: ClientError.self) {  // wrong state
            _ = try await flow.redeemable("\(uri)?code=c&state=forged", for: request)
        }
        await #expect(throws: ClientError.self) {  // the server's error is reported
            _ = try await flow.redeemable("\(uri)?error=access_denied&state=\(request.state)", for: request)
        }
        #expect(try await flow.redeemable("\(uri)?code=c%2B1&state=\(request.state)", for: request) == "c+1")
        await #expect(throws: ClientError.self) {  // replayed
            _ = try await flow.redeemable("\(uri)?code=c&state=\(request.state)", for: request)
        }
    }
}

@Suite struct LoopbackTests {
    @Test func theRedirectArrivesOnAnEphemeralLoopbackPort() async throws {
        let receiver = try LoopbackReceiver()
        defer { receiver.close() }
        #expect(receiver.port != 0)
        #expect(receiver.redirectURI == "http://127.0.0.1:\(receiver.port)/callback")
        // The accept loop runs on its own thread from `start` on, however busy the suite's task threads are.
        let pending = receiver.start(timeout: 120)
        let url = try #require(URL(string: receiver.redirectURI + "?code=abc&state=xyz"))
        let answer = try await URLSessionFetcher(timeout: 60).fetch(HTTPRequest(url: url, maxResponseBytes: 4096))
        #expect(answer.status == 200)
        #expect(try await pending.value() == receiver.redirectURI + "?code=abc&state=xyz")
    }
}

@Suite struct LoopbackCloseTests {
    /// `close()` ends a pending redirect at once, and the accept thread closes the socket itself: nothing keeps
    /// polling a descriptor number that another socket may be given.
    @Test func closingStopsTheAcceptThreadAndFailsThePendingRedirect() async throws {
        let receiver = try LoopbackReceiver()
        let pending = receiver.start(timeout: 120)
        receiver.close()
        // The closed error, not the deadline's: the thread saw the close. (No timing is asserted: resuming this
        // task waits for a free task thread, which a loaded suite may hold for minutes.)
        let error = await #expect(throws: ClientError.self) { _ = try await pending.value() }
        #expect(error?.code != .timeout, "\(String(describing: error))")
        #expect(error?.message.contains("was closed") == true, "\(String(describing: error))")
        let url = try #require(URL(string: receiver.redirectURI))
        await #expect(throws: (any Error).self) {
            _ = try await URLSessionFetcher(timeout: 5).fetch(HTTPRequest(url: url, maxResponseBytes: 64))
        }
    }

    @Test func aClosedReceiverCannotStart() async throws {
        let receiver = try LoopbackReceiver()
        receiver.close()
        await #expect(throws: ClientError.self) { _ = try await receiver.start(timeout: 5).value() }
    }
}

@Suite struct CodeFlowEndToEndTests {
    /// The flow with a fake authorization server: the "browser" follows the authorization URL's redirect URI with a
    /// code, the token endpoint checks the verifier against the challenge, the redirect URI and `resource`.
    @Test func theTokenArrivesOnTheLoopbackRedirect() async throws {
        let challenge = Locked<String?>(nil)
        let attempts = Locked<[String]>([])
        let network = FakeNetwork([
            { r in
                guard r.url.absoluteString == "https://as.test/token" else { return nil }
                let f = form(r)
                let expected = challenge.withLock { $0 }
                guard let verifier = f["code_verifier"], PKCE(verifier: verifier).challenge == expected,
                    f["code"] == "the-code", f["redirect_uri"]?.hasPrefix("http://127.0.0.1:") == true,
                    f["resource"] == "https://mcp.test/mcp", f["client_id"] == "cli"
                else { return FakeNetwork.json(#"{"error":"invalid_grant"}"#, status: 400) }
                return FakeNetwork.json(#"{"access_token":"AT","expires_in":300,"scope":"a"}"#)
            }
        ])
        let server = try AuthorizationServerMetadata(
            json: JSONParser().parse(
                #"{"issuer":"https://as.test","token_endpoint":"https://as.test/token","authorization_endpoint":"https://as.test/authorize"}"#
            ), expectedIssuer: "https://as.test")
        let oauth = OAuthClient(server: server, registration: ClientRegistration(clientID: "cli"), fetcher: network)
        var flow = AuthorizationCodeFlow(
            oauth: oauth,
            present: { url in
                let query = URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems ?? []
                func value(_ name: String) -> String { query.first { $0.name == name }?.value ?? "" }
                challenge.withLock { $0 = value("code_challenge") }
                guard let back = URL(string: value("redirect_uri") + "?code=the-code&state=" + value("state")) else {
                    return
                }
                // The "browser" runs on a thread of its own with blocking sockets, as a real browser is its own
                // process: a task would wait for a free task thread, which a loaded suite (blocking CLI tests) may
                // hold past the receiver's deadline. Like a user reloading the page, it tries again on a failure.
                Thread {
                    for _ in 0..<20 {
                        let answer = LoopbackBrowser.get(back)
                        attempts.withLock { $0.append(answer) }
                        if answer.hasPrefix("HTTP/1.1 200") { return }
                        usleep(200_000)
                    }
                }.start()
            })
        flow.timeout = 120
        let token: IssuedToken
        do {
            token = try await flow.run(scopes: ["a"], resource: "https://mcp.test/mcp")
        } catch {
            Issue.record("\(error); the browser's attempts: \(attempts.withLock { $0 })")
            return
        }
        #expect(token.accessToken == "AT")
        #expect(token.scopes == ["a"])
    }
}

/// A blocking HTTP/1.1 `GET` over a loopback socket, for a test's "browser": the status line, or what failed.
enum LoopbackBrowser {
    static func get(_ url: URL) -> String {
        guard let port = url.port, url.host == "127.0.0.1" else { return "not a loopback URL" }
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return "no socket" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return "connect failed: errno \(errno)" }
        let target = url.path + (url.query.map { "?" + $0 } ?? "")
        let request = Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            return "send failed: errno \(errno)"
        }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return "no answer: errno \(errno)" }
        return String(decoding: buffer[0..<n], as: UTF8.self).components(separatedBy: "\r\n").first ?? ""
    }
}
