import Foundation
import Hummingbird
import NIOCore
import ScopeGateAsyncHTTPClient
import ScopeGateHTTPTestSupport
import ScopeGateTokens
import ScopeGateURLSession
import Testing

/// A server whose answers are redirects, recording every request it is sent:
/// - `/moved` → 302 to `/keys` (`/keys` answers 200 `keys`);
/// - `/token` → 307 to `/elsewhere` (a `POST` followed there would carry its body along);
/// - `/loop/N` → 302 to `/loop/N+1`, without end;
/// - `/cross` on `127.0.0.1` → 302 to the same path on `localhost` (another origin), which answers 200.
struct RedirectingServer: HTTPResponder {
    typealias Context = BasicRequestContext
    let received: Received

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        _ = try await received.record(request, extra: ["path": request.uri.path, "method": request.method.rawValue])
        let path = request.uri.path
        func redirect(_ status: HTTPResponse.Status, to location: String) -> Response {
            Response(status: status, headers: [.location: location])
        }
        switch path {
        case "/moved": return redirect(.found, to: "/keys")
        case "/token": return redirect(.temporaryRedirect, to: "/elsewhere")
        case "/cross" where request.head.authority?.hasPrefix("127.0.0.1") == true:
            let port = request.head.authority?.split(separator: ":").last ?? ""
            return redirect(.found, to: "http://localhost:\(port)/cross")
        default:
            if path.hasPrefix("/loop/"), let n = Int(path.dropFirst("/loop/".count)) {
                return redirect(.found, to: "/loop/\(n + 1)")
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "keys")))
        }
    }
}

/// Both fetchers follow the redirects `HTTPRedirect` allows and no others: a `GET` is followed, a `POST`'s 307 is
/// returned (its body never reaches the `Location`), at most five in a row, and a credential does not cross to
/// another origin.
@Suite struct FetcherRedirectTests {
    static let fetchers: [@Sendable () -> any HTTPFetcher] = [
        { AsyncHTTPClientFetcher(timeout: .seconds(60)) }, { URLSessionFetcher(timeout: 60) },
    ]

    func serve() async throws -> (Received, String, Task<Void, any Error>) {
        let received = Received()
        let (port, task) = try await serveOnLoopback(RedirectingServer(received: received))
        return (received, "http://127.0.0.1:\(port)", task)
    }

    func get(_ url: String, headers: [String: String] = [:]) throws -> ScopeGateTokens.HTTPRequest {
        ScopeGateTokens.HTTPRequest(url: try #require(URL(string: url)), headers: headers, maxResponseBytes: 4096)
    }

    @Test(arguments: 0..<2) func aGetIsFollowed(fetcher: Int) async throws {
        let (received, base, server) = try await serve()
        defer { server.cancel() }
        let response = try await Self.fetchers[fetcher]().fetch(try get(base + "/moved"))
        #expect(response.status == 200)
        #expect(String(decoding: response.body, as: UTF8.self) == "keys")
        #expect(received.header("path") == ["/moved", "/keys"])
    }

    @Test(arguments: 0..<2) func aPostIsNotFollowedAndItsBodyStaysPut(fetcher: Int) async throws {
        let (received, base, server) = try await serve()
        defer { server.cancel() }
        var request = try get(base + "/token")
        request.method = "POST"
        request.body = Array("subject_token=secret".utf8)
        let response = try await Self.fetchers[fetcher]().fetch(request)
        #expect(response.status == 307)
        #expect(received.header("path") == ["/token"])
        #expect(received.bodies == ["subject_token=secret"])
    }

    @Test(arguments: 0..<2) func atMostFiveRedirectsAreFollowed(fetcher: Int) async throws {
        let (received, base, server) = try await serve()
        defer { server.cancel() }
        let response = try await Self.fetchers[fetcher]().fetch(try get(base + "/loop/0"))
        #expect(response.status == 302)
        #expect(received.header("path") == (0...5).map { "/loop/\($0)" })
    }

    @Test(arguments: 0..<2) func credentialsStayWithTheirOrigin(fetcher: Int) async throws {
        let (received, base, server) = try await serve()
        defer { server.cancel() }
        let response = try await Self.fetchers[fetcher]().fetch(
            try get(base + "/cross", headers: ["Authorization": "Bearer bundle-token", "X-Kept": "yes"]))
        #expect(response.status == 200)
        #expect(received.header("path") == ["/cross", "/cross"])
        #expect(received.header("authorization") == ["Bearer bundle-token", nil])
        #expect(received.header("x-kept") == ["yes", "yes"])
    }
}

/// The rule itself, on URLs no test server can answer for (`https`).
@Suite struct HTTPRedirectRuleTests {
    func request(_ url: String, method: String = "GET") throws -> ScopeGateTokens.HTTPRequest {
        ScopeGateTokens.HTTPRequest(
            method: method, url: try #require(URL(string: url)), headers: ["Authorization": "Bearer t"],
            maxResponseBytes: 1)
    }

    func answer(_ status: Int, _ location: String?) -> ScopeGateTokens.HTTPResponse {
        ScopeGateTokens.HTTPResponse(status: status, headers: location.map { ["Location": $0] } ?? [:], body: [])
    }

    @Test func whatIsFollowedAndWhatIsNot() throws {
        let jwks = try request("https://idp.example.com/.well-known/jwks.json")
        // Relative and absolute locations; the credential kept on the same origin (default port written or not).
        let relative = HTTPRedirect.next(after: jwks, response: answer(301, "/keys/v2"))
        #expect(relative?.url.absoluteString == "https://idp.example.com/keys/v2")
        #expect(relative?.headers["Authorization"] == "Bearer t")
        let samePort = HTTPRedirect.next(after: jwks, response: answer(308, "https://idp.example.com:443/k"))
        #expect(samePort?.headers["Authorization"] == "Bearer t")
        let cdn = HTTPRedirect.next(after: jwks, response: answer(302, "https://cdn.example.net/k"))
        #expect(cdn?.url.host == "cdn.example.net")
        #expect(cdn?.headers["Authorization"] == nil)
        // Never from https to plain http, nor to another scheme; no location, not a redirect status: the answer.
        #expect(HTTPRedirect.next(after: jwks, response: answer(302, "http://idp.example.com/k")) == nil)
        #expect(HTTPRedirect.next(after: jwks, response: answer(302, "ftp://idp.example.com/k")) == nil)
        #expect(HTTPRedirect.next(after: jwks, response: answer(302, nil)) == nil)
        #expect(HTTPRedirect.next(after: jwks, response: answer(304, "/k")) == nil)
        #expect(HTTPRedirect.next(after: jwks, response: answer(200, "/k")) == nil)
        // http may move to https.
        let local = try request("http://127.0.0.1:9000/jwks")
        #expect(HTTPRedirect.next(after: local, response: answer(302, "https://idp.example.com/k")) != nil)
        // A POST is never redirected, whatever the status.
        for status in [301, 302, 303, 307, 308] {
            let post = try request("https://idp.example.com/token", method: "POST")
            #expect(HTTPRedirect.next(after: post, response: answer(status, "/other")) == nil)
        }
    }

    /// A `Location` that is not a URL, or names no host, is not followed: the 3xx is the answer, which the
    /// caller reports as a failed request.
    @Test(arguments: ["http://[::1", "https://", "https:///k", "", "https://exa mple.com/k", "//"])
    func anUnusableLocationIsTheAnswer(location: String) throws {
        let jwks = try request("https://idp.example.com/.well-known/jwks.json")
        #expect(HTTPRedirect.next(after: jwks, response: answer(302, location)) == nil)
    }

    /// Characters a URL cannot hold in a relative `Location` are percent-encoded, as browsers do (swift-foundation
    /// on Linux; Foundation versions that refuse such a string instead make it unusable, as above): the redirect
    /// stays on the request's origin (its credential with it), at the encoded path.
    @Test func aRelativeLocationWithStrayCharactersStaysOnTheOrigin() throws {
        let jwks = try request("https://idp.example.com/.well-known/jwks.json")
        for (location, path) in [("%%%", "/.well-known/%25%25%25"), (" ", "/.well-known/%20")] {
            let next = HTTPRedirect.next(after: jwks, response: answer(302, location))
            #if os(Linux)
                #expect(next != nil)
            #endif
            guard let next else { continue }
            #expect(next.url.scheme == "https")
            #expect(next.url.host == "idp.example.com")
            #expect(next.url.path(percentEncoded: true) == path)
            #expect(next.headers["Authorization"] == "Bearer t")
        }
    }
}
