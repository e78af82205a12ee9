import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateAuthz
import ScopeGateHTTPTestSupport
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTesting

@testable import ScopeGateTokens

/// The policy both front ends decide against (``GatewayTestPolicy/source``).
let authzPolicy = GatewayTestPolicy.source

/// Test tokens: the token text names its scopes.
let testScopes: [String: [String]] = [
    "reader": ["files:read"], "writer": ["files:write"], "accountant": ["reports:read"],
    "admin": ["files:admin", "reports:read", "budget:approve"],
]

/// The authentication of a test token: `sub` is `user-<token>`; unknown tokens are invalid.
let testAuthenticate: AuthzService.Authenticate = { header, policy in
    guard let token = BearerChallenge.token(fromAuthorization: header) else {
        return Authentication(credential: .missing)
    }
    guard let scopes = testScopes[token] else {
        return Authentication(credential: .invalid(TokenError(.malformed, "unknown test token")))
    }
    return Authentication(
        credential: .granted(policy.grant(scopes), expiresAt: Date(timeIntervalSinceNow: 60), stripPrefixes: []),
        subject: "user-\(token)", clientID: "client-\(token)")
}

/// The cache-hit path of ``testAuthenticate``: every test token is answered at once, as a cached token is; the
/// services built with it never wait for a task.
let testAuthenticateAtOnce: AuthzService.AuthenticateAtOnce = { header, policy in
    guard let token = BearerChallenge.token(fromAuthorization: header) else {
        return Authentication(credential: .missing)
    }
    guard let scopes = testScopes[token] else { return nil }  // the slow path says why it is invalid
    return Authentication(
        credential: .granted(policy.grant(scopes), expiresAt: Date(timeIntervalSinceNow: 60), stripPrefixes: []),
        subject: "user-\(token)", clientID: "client-\(token)")
}

/// Starts ``AuthzServer`` for `service` on a free loopback port: the port, and the task that runs the server
/// (cancelling it shuts the server down gracefully; its result comes once the server has drained).
func startAuthzServer(
    _ service: AuthzService, idleTimeout: TimeAmount = .seconds(60)
) async throws -> (port: Int, task: Task<Void, any Error>) {
    let port = BoundPort()
    let server = AuthzServer(
        service: service, host: "127.0.0.1", port: 0, idleTimeout: idleTimeout, onListening: { port.set($0) })
    let task = Task { try await server.run() }
    for _ in 0..<400 where port.get == 0 { try await Task.sleep(for: .milliseconds(25)) }
    return (port.get, task)
}

/// Serves `service` (``startAuthzServer(_:idleTimeout:)``) for `body`, which gets the port; then shuts the server
/// down gracefully and waits until it has.
func withAuthzServer<T>(
    _ service: AuthzService, idleTimeout: TimeAmount = .seconds(60), _ body: (Int) async throws -> T
) async throws -> T {
    let (port, task) = try await startAuthzServer(service, idleTimeout: idleTimeout)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(port))
    } catch {
        result = .failure(error)
    }
    task.cancel()
    _ = await task.result
    return try result.get()
}

func testStore() throws -> PolicyStore {
    PolicyStore(
        initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: authzPolicy).compiled())
}

/// What the in-process upstream received.
final class ReceivedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var bodies: [String] = []
    func record(_ body: String) { lock.withLock { bodies.append(body) } }
    var count: Int { lock.withLock { bodies.count } }
}

/// A fast MCP upstream for the proxy: answers every POST with a canned JSON-RPC result.
struct CannedUpstream: HTTPResponder {
    typealias Context = BasicRequestContext
    let log: ReceivedLog

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        log.record(String(buffer: try await request.collectBody(upTo: 1 << 20)))
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"result":{"content":[]}}"#)))
    }
}

/// An HTTP answer as a test sees it (header names lowercased).
struct Answer: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: String

    func header(_ name: String) -> String? { headers.first { $0.0 == name.lowercased() }?.1 }
}

func send(
    _ url: String, method: String = "POST", headers: [(String, String)], body: String?
) async throws -> Answer {
    var request = HTTPClientRequest(url: url)
    request.method = .init(rawValue: method)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    return Answer(
        status: Int(response.status.code), headers: response.headers.map { ($0.name.lowercased(), $0.value) },
        body: text)
}

/// `error.data.reason` of a JSON-RPC error body.
func errorReason(_ body: String) -> String? {
    guard case .object(let o)? = try? JSONParser().parse(body), case .object(let e)? = o["error"],
        case .object(let d)? = e["data"], case .string(let reason)? = d["reason"]
    else { return nil }
    return reason
}

/// `error.code` of a JSON-RPC error body.
func errorCode(_ body: String) -> Decimal? {
    guard case .object(let o)? = try? JSONParser().parse(body), case .object(let e)? = o["error"],
        case .number(let code)? = e["code"]
    else { return nil }
    return code
}
