import Foundation
import ScopeGate
import ScopeGateTokens

/// A value behind a lock (tests run on macOS 14 too, without `Synchronization.Mutex`).
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// A fake network: each request goes to the first route whose URL string matches, and is recorded.
final class FakeNetwork: HTTPFetcher, Sendable {
    typealias Route = @Sendable (HTTPRequest) -> HTTPResponse?
    let routes: [Route]
    let log = Locked<[HTTPRequest]>([])

    init(_ routes: [Route]) { self.routes = routes }

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        log.withLock { $0.append(request) }
        for route in routes { if let answer = route(request) { return answer } }
        return HTTPResponse(status: 404, body: [])
    }

    var requests: [HTTPRequest] { log.withLock { $0 } }

    static func json(_ text: String, status: Int = 200, headers: [String: String] = [:]) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: headers.merging(["Content-Type": "application/json"]) { a, _ in a },
            body: Array(text.utf8))
    }
}

/// A settable clock.
final class TestClock: Sendable {
    let value = Locked(Date(timeIntervalSince1970: 1_900_000_000))
    var now: Date { value.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { value.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var function: @Sendable () -> Date { { [self] in self.now } }
}

/// The form fields of a request body.
func form(_ request: HTTPRequest) -> [String: String] {
    var out: [String: String] = [:]
    for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
        let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
        if kv.count == 2 { out[kv[0]] = kv[1] }
    }
    return out
}

let issuer = "http://127.0.0.1:9/api/oidc"
let resourceURL = URL(string: "http://127.0.0.1:8/mcp")!

/// Discovery documents of a resource behind a Glewlwyd-like issuer (OIDC discovery only, no RFC 8414 document).
func discoveryRoutes(extraMetadata: String = "") -> [FakeNetwork.Route] {
    [
        { r in
            r.url == resourceURL && r.method == "POST"
                ? FakeNetwork.json(
                    "{}", status: 401,
                    headers: [
                        "WWW-Authenticate":
                            #"Bearer resource_metadata="http://127.0.0.1:8/.well-known/oauth-protected-resource/mcp", scope="a""#
                    ]) : nil
        },
        { r in
            r.url.absoluteString == "http://127.0.0.1:8/.well-known/oauth-protected-resource/mcp"
                ? FakeNetwork.json(
                    #"{"resource":"https://mcp.test/mcp","authorization_servers":["\#(issuer)"],"scopes_supported":["s1","s2"]\#(extraMetadata)}"#
                ) : nil
        },
        { r in
            r.url.absoluteString == issuer + "/.well-known/openid-configuration"
                ? FakeNetwork.json(
                    #"{"issuer":"\#(issuer)","token_endpoint":"\#(issuer)/token","authorization_endpoint":"\#(issuer)/auth","code_challenge_methods_supported":["S256"]}"#
                ) : nil
        },
    ]
}
