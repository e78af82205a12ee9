import Foundation
import ScopeGateAsyncHTTPClient
import ScopeGateTokens
import Testing

/// `https_proxy`/`http_proxy`/`no_proxy` as curl reads them, and the gateway's identity-provider requests really
/// leaving through the proxy (`CONNECT`).
@Suite struct EnvironmentProxyTests {
    func url(_ text: String) throws -> URL { try #require(URL(string: text)) }

    @Test func theVariablesAreReadAsCurlReadsThem() throws {
        let proxy = EnvironmentProxy(environment: [
            "https_proxy": "http://alice:s%40cret@egress.internal:3128/", "HTTP_PROXY": "http://cgi-injected:80",
            "ALL_PROXY": "fallback.internal", "NO_PROXY": " .corp.example , Direct.Example.com,,",
        ])
        let https = try #require(proxy.server(for: try url("https://login.example.com/jwks")))
        #expect(https == .init(host: "egress.internal", port: 3128, username: "alice", password: "s@cret"))
        // `HTTP_PROXY` is ignored (only lowercase `http_proxy` counts); `ALL_PROXY` fills in, on curl's port 1080.
        #expect(proxy.server(for: try url("http://login.example.com/jwks"))?.host == "fallback.internal")
        #expect(proxy.server(for: try url("http://login.example.com/jwks"))?.port == 1080)
        for direct in [
            "https://idp.corp.example/jwks", "https://corp.example/", "https://direct.example.com/x",
            "https://sub.direct.example.com/x", "http://localhost:8080/", "http://127.0.0.1:9/", "http://[::1]:9/",
        ] {
            #expect(proxy.server(for: try url(direct)) == nil, "\(direct)")
        }
        #expect(proxy.server(for: try url("https://notcorp.example/")) != nil, "a suffix must be a whole label")
        let everything = EnvironmentProxy(environment: ["https_proxy": "egress:3128", "no_proxy": "*"])
        #expect(everything.server(for: try url("https://login.example.com/")) == nil)
        #expect(EnvironmentProxy.none.server(for: try url("https://login.example.com/")) == nil)
        #expect(EnvironmentProxy(environment: ["https_proxy": "http://:0"]).https == nil)
    }

    @Test func aRequestGoesThroughTheProxyWithConnect() async throws {
        let listener = try OneRequestListener()
        let proxy = EnvironmentProxy(environment: ["https_proxy": "http://bob:pw@127.0.0.1:\(listener.port)"])
        let fetcher = AsyncHTTPClientFetcher(timeout: .seconds(2), proxy: proxy)
        // The stand-in proxy refuses the tunnel, so the fetch fails (AsyncHTTPClient retries the connection until
        // the request's deadline), after the proxy saw where it was asked to go.
        await #expect(throws: (any Error).self) {
            _ = try await fetcher.fetch(
                HTTPRequest(url: try url("https://idp.example.com/jwks"), maxResponseBytes: 1024))
        }
        let head = listener.head()
        #expect(head.hasPrefix("CONNECT idp.example.com:443 HTTP/1.1\r\n"), "\(head)")
        #expect(
            head.lowercased().contains(
                "proxy-authorization: basic \(Data("bob:pw".utf8).base64EncodedString())".lowercased()))
    }
}
