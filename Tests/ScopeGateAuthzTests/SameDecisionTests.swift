import Foundation
import Hummingbird
import ScopeGate
import ScopeGateAuthz
import ScopeGateHTTPTestSupport
import ScopeGateProxy
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

/// How a request reaches a decision: through `scopegate proxy` (to an in-process upstream), or as one of the
/// three front proxies asks `scopegate authz`.
enum Front: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// The proxy, body and headers.
    case proxy
    /// Envoy `ext_authz` with `with_request_body`: original method, path after the prefix, headers and body.
    case envoy
    /// nginx `auth_request`: a bodiless subrequest with `X-Original-Method` and `X-Original-URI`.
    case nginx
    /// Caddy `forward_auth`: a bodiless `GET` with `X-Forwarded-Method` and `X-Forwarded-Uri`.
    case caddy

    var seesBody: Bool { self == .proxy || self == .envoy }
    var testDescription: String { rawValue }
}

/// One 2026-07-28 request and the answer every front end must give it.
struct DecisionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var method = "tools/call"
    var tool: String
    var arguments = "{}"
    /// `Mcp-Param-*` headers, as a client mirrors them (or, for mismatch cases, does not).
    var parameters: [(String, String)] = []
    /// `Mcp-Name` when it differs from the body's name.
    var headerName: String?
    var token: String?
    var status: Int
    var scope: String?
    var reason: String?
    /// Whether the header-only fronts apply (a mismatch needs the body to be seen).
    var needsBody = false

    var testDescription: String { name }

    var body: String {
        let key = method == "resources/read" ? "uri" : "name"
        return
            #"{"jsonrpc":"2.0","id":1,"method":"\#(method)","params":{"\#(key)":"\#(tool)","arguments":\#(arguments)}}"#
    }

    var headers: [(String, String)] {
        var out: [(String, String)] = [
            ("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", method), ("Mcp-Name", headerName ?? tool),
        ]
        out += parameters
        if let token { out.append(("Authorization", "Bearer \(token)")) }
        return out
    }

    static let all: [DecisionCase] = [
        .init(name: "allowed call", tool: "read_file", token: "reader", status: 200),
        .init(
            name: "missing scope", tool: "write_file", token: "reader", status: 403, scope: "files:write",
            reason: "missing_scope"),
        .init(name: "no token", tool: "read_file", status: 401, scope: "files:read"),
        .init(name: "unknown token", tool: "read_file", token: "forged", status: 401, scope: "files:read"),
        .init(
            name: "number under the bar", tool: "spend", arguments: #"{"amount":50,"urgent":false}"#,
            parameters: [("Mcp-Param-Amount", "50"), ("Mcp-Param-Urgent", "false")], token: "accountant",
            status: 200),
        .init(
            name: "number over the bar", tool: "spend", arguments: #"{"amount":500,"urgent":false}"#,
            parameters: [("Mcp-Param-Amount", "500"), ("Mcp-Param-Urgent", "false")], token: "accountant",
            status: 403, scope: "budget:approve reports:read", reason: "missing_scope"),
        .init(
            name: "boolean condition", tool: "spend", arguments: #"{"amount":5,"urgent":true}"#,
            parameters: [("mcp-param-amount", "5"), ("MCP-PARAM-URGENT", "true")], token: "accountant",
            status: 403, scope: "files:admin reports:read", reason: "missing_scope"),
        .init(
            name: "wrong-typed number fails closed", tool: "spend", arguments: #"{"amount":"lots","urgent":false}"#,
            parameters: [("Mcp-Param-Amount", "lots"), ("Mcp-Param-Urgent", "false")], token: "accountant",
            status: 403, scope: "budget:approve reports:read", reason: "missing_scope"),
        .init(
            name: "allowed action", tool: "file_manager", arguments: #"{"action":"read","path":"/tmp/a"}"#,
            parameters: [("Mcp-Param-Action", "read"), ("Mcp-Param-Path", "/tmp/a")], token: "reader", status: 200),
        .init(
            name: "denied action", tool: "file_manager", arguments: #"{"action":"delete","path":"/tmp/a"}"#,
            parameters: [("Mcp-Param-Action", "delete"), ("Mcp-Param-Path", "/tmp/a")], token: "reader", status: 403,
            scope: "files:admin", reason: "missing_scope"),
        .init(name: "unknown tool", tool: "rm_rf", token: "admin", status: 403, reason: "unknown_tool"),
        .init(name: "prompt", method: "prompts/get", tool: "summarize", token: "accountant", status: 200),
        .init(
            name: "name mismatch", tool: "read_file", headerName: "write_file", token: "writer", status: 400,
            needsBody: true),
        .init(
            name: "parameter mismatch", tool: "spend", arguments: #"{"amount":500,"urgent":false}"#,
            parameters: [("Mcp-Param-Amount", "50"), ("Mcp-Param-Urgent", "false")], token: "accountant",
            status: 400, needsBody: true),
    ]
}

/// One proxy (with its upstream) and one decision service, on the same policy and token layer.
struct FrontEnds {
    let proxyPort: Int
    let authzPort: Int
    let upstream: ReceivedLog

    static func with(_ body: (FrontEnds) async throws -> Void) async throws {
        let store = try testStore()
        let log = ReceivedLog()
        let (upstreamPort, upstreamTask) = try await serveOnLoopback(CannedUpstream(log: log))
        defer { upstreamTask.cancel() }
        let proxy = MCPProxy(
            store: store,
            configuration: ProxyConfiguration(
                upstream: "http://127.0.0.1:\(upstreamPort)/mcp", upstreamTimeout: .seconds(10)),
            authenticate: { header, policy in await testAuthenticate(header, policy).credential })
        let (proxyPort, proxyTask) = try await serveOnLoopback(ProxyResponder(proxy: proxy))
        defer { proxyTask.cancel() }
        // Token answers at once, as the gateway's cache hits are: the decision service answers on the event loop.
        let service = AuthzService(
            store: store, configuration: AuthzConfiguration(), authenticate: testAuthenticate,
            authenticateAtOnce: testAuthenticateAtOnce)
        try await withAuthzServer(service) { authzPort in
            try await body(FrontEnds(proxyPort: proxyPort, authzPort: authzPort, upstream: log))
        }
    }

    /// Sends `c` the way `front` would.
    func ask(_ front: Front, _ c: DecisionCase) async throws -> Answer {
        let authz = "http://127.0.0.1:\(authzPort)"
        switch front {
        case .proxy:
            return try await send(
                "http://127.0.0.1:\(proxyPort)/mcp", headers: [("Content-Type", "application/json")] + c.headers,
                body: c.body)
        case .envoy:
            return try await send(
                authz + "/authz/mcp", headers: [("Content-Type", "application/json")] + c.headers, body: c.body)
        case .nginx:
            return try await send(
                authz + "/authz", method: "GET",
                headers: c.headers + [("X-Original-Method", "POST"), ("X-Original-URI", "/mcp")], body: nil)
        case .caddy:
            return try await send(
                authz + "/authz", method: "GET",
                headers: c.headers + [("X-Forwarded-Method", "POST"), ("X-Forwarded-Uri", "/mcp")], body: nil)
        }
    }
}

@Suite struct SameDecisionTests {
    @Test(arguments: Front.allCases, DecisionCase.all)
    func everyFrontDecidesAsSpecified(front: Front, c: DecisionCase) async throws {
        guard front.seesBody || !c.needsBody else { return }
        try await FrontEnds.with { ends in
            let answer = try await ends.ask(front, c)
            #expect(answer.status == c.status)
            #expect(challengeScope(answer.header("WWW-Authenticate")) == c.scope)
            if let reason = c.reason { #expect(errorReason(answer.body) == reason) }
            if c.status == 401 { #expect(answer.header("WWW-Authenticate")?.contains("resource_metadata=") == true) }
            if c.status == 400 { #expect(errorCode(answer.body) == -32020) }
            if front == .proxy {
                #expect(ends.upstream.count == (c.status == 200 ? 1 : 0))
            } else if c.status == 200 {
                #expect(answer.header(AuthzDecision.Header.subject) == "user-\(c.token ?? "")")
                #expect(!answer.headers.contains { $0.0 == "authorization" || $0.1.contains("Bearer") })
                #expect(answer.body.isEmpty)
            }
        }
    }

    /// The decision service and the proxy answer the same request alike: status, challenge, JSON-RPC error code
    /// and reason; with the body forwarded, the very same error body.
    @Test(arguments: DecisionCase.all)
    func theServiceAnswersAsTheProxyDoes(c: DecisionCase) async throws {
        try await FrontEnds.with { ends in
            let proxy = try await ends.ask(.proxy, c)
            for front in Front.allCases where front != .proxy && (front.seesBody || !c.needsBody) {
                let answer = try await ends.ask(front, c)
                #expect(answer.status == proxy.status, "\(front)")
                #expect(answer.header("WWW-Authenticate") == proxy.header("WWW-Authenticate"), "\(front)")
                if proxy.status != 200 {
                    #expect(errorCode(answer.body) == errorCode(proxy.body), "\(front)")
                    #expect(errorReason(answer.body) == errorReason(proxy.body), "\(front)")
                }
                if front == .envoy, proxy.status != 200 { #expect(answer.body == proxy.body) }
            }
        }
    }
}
