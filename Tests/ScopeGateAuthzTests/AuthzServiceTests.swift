import Foundation
import ScopeGate
import ScopeGateAuthz
import ScopeGateHTTPTestSupport
import ScopeGateRequestAuthorization
import ScopeGateTesting
import Testing

/// What only the decision service does: reading each front proxy's shape, header-only refusals, the allow
/// headers, and the routes beside the decision path.
@Suite struct AuthzServiceTests {
    func withService(_ body: (String) async throws -> Void) async throws {
        let service = AuthzService(
            store: try testStore(), configuration: AuthzConfiguration(), authenticate: testAuthenticate)
        try await withAuthzServer(service) { port in try await body("http://127.0.0.1:\(port)") }
    }

    static let base: [(String, String)] = [("MCP-Protocol-Version", "2026-07-28"), ("X-Original-Method", "POST")]

    @Test func anAllowAnswerCarriesTheSubjectClientAndScopesButNeverTheToken() async throws {
        try await withService { url in
            let answer = try await send(
                url + "/authz", method: "GET",
                headers: Self.base + [
                    ("Mcp-Method", "tools/call"), ("Mcp-Name", "read_file"), ("Authorization", "Bearer admin"),
                ], body: nil)
            #expect(answer.status == 200)
            #expect(answer.header("X-ScopeGate-Subject") == "user-admin")
            #expect(answer.header("X-ScopeGate-Client") == "client-admin")
            #expect(answer.header("X-ScopeGate-Scopes") == "files:admin reports:read budget:approve")
            #expect(!answer.headers.contains { $0.1.contains("Bearer") })
        }
    }

    @Test func aMissingParameterHeaderIs403NamingIt() async throws {
        try await withService { url in
            let answer = try await send(
                url + "/authz", method: "GET",
                headers: Self.base + [
                    ("Mcp-Method", "tools/call"), ("Mcp-Name", "spend"), ("Mcp-Param-Amount", "5"),
                    ("Authorization", "Bearer admin"),
                ], body: nil)
            #expect(answer.status == 403)
            #expect(answer.header("X-ScopeGate-Reason") == "missing_header")
            #expect(answer.body.contains("Mcp-Param-urgent"))
            #expect(answer.header("WWW-Authenticate") == nil)
        }
    }

    /// The reason header names the denial that refused the request: a shadowed denial ahead of it in a batch is
    /// let through and is not the reason.
    @Test func theReasonOfARefusedBatchIsTheRefusingDenials() async throws {
        try await withService { url in
            func call(_ id: Int, _ tool: String) -> String {
                #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":{}}}"#
            }
            let answer = try await send(
                url + "/authz/mcp",
                headers: [
                    ("MCP-Protocol-Version", "2025-06-18"), ("X-Original-Method", "POST"),
                    ("Content-Type", "application/json"), ("Authorization", "Bearer reader"),
                ],
                body: "[" + call(1, GatewayTestPolicy.shadowTool) + "," + call(2, "no_such_tool") + "]")
            #expect(answer.status == 403)
            #expect(answer.header("X-ScopeGate-Reason") == "unknown_tool")
        }
    }

    @Test func aCallWithoutItsNameIsRefused() async throws {
        try await withService { url in
            let answer = try await send(
                url + "/authz", method: "GET",
                headers: Self.base + [("Mcp-Method", "tools/call"), ("Authorization", "Bearer admin")], body: nil)
            #expect(answer.status == 400)
            #expect(answer.header("X-ScopeGate-Reason") == "request.header_mismatch")
            #expect(answer.body.contains("Mcp-Name"))
        }
    }

    @Test(arguments: ["2025-11-25", nil])
    func olderClientsWithoutHeadersAreToldToUseTheProxy(version: String?) async throws {
        try await withService { url in
            var headers: [(String, String)] = [("X-Original-Method", "POST"), ("Authorization", "Bearer admin")]
            if let version { headers.append(("MCP-Protocol-Version", version)) }
            let answer = try await send(url + "/authz", method: "GET", headers: headers, body: nil)
            #expect(answer.status == 400)
            #expect(answer.body.contains("proxy"))
        }
    }

    /// A client can add `X-Original-Method: GET` past a Caddy front; the decision stays a POST's.
    @Test func aSpoofedMethodHeaderCannotTurnACallIntoAGet() async throws {
        try await withService { url in
            let answer = try await send(
                url + "/authz", method: "GET",
                headers: [
                    ("MCP-Protocol-Version", "2026-07-28"), ("X-Forwarded-Method", "POST"),
                    ("X-Original-Method", "GET"), ("Mcp-Method", "tools/call"), ("Mcp-Name", "write_file"),
                    ("Authorization", "Bearer reader"),
                ], body: nil)
            #expect(answer.status == 403)
        }
    }

    @Test func routesBesideTheDecisionPath() async throws {
        try await withService { url in
            #expect(try await send(url + "/healthz", method: "GET", headers: [], body: nil).status == 200)
            let ready = try await send(url + "/readyz", method: "GET", headers: [], body: nil)
            #expect(ready.status == 200)
            #expect(ready.body == "ready\n")
            let metadata = try await send(
                url + "/.well-known/oauth-protected-resource/mcp", method: "GET", headers: [], body: nil)
            #expect(metadata.status == 200)
            #expect(metadata.body.contains(#""resource":"https://mcp.example.com/mcp""#))
            #expect(try await send(url + "/authzother", method: "GET", headers: [], body: nil).status == 404)
        }
    }

    @Test func anOversizedBodyIs413() async throws {
        try await withService { url in
            let big = String(repeating: " ", count: (1 << 20) + 10)
            let answer = try await send(url + "/authz/mcp", headers: Self.base, body: big)
            #expect(answer.status == 413)
            #expect(answer.header("X-ScopeGate-Reason") == "request.too_large")
            // Beside the decision path, the same limit, answered with a line of text (as a head over the limits is).
            let other = try await send(url + "/healthz", headers: [], body: big)
            #expect(other.status == 413)
            #expect(other.body.hasPrefix("request body too large: "))
        }
    }

    /// A head over the limit is answered 431 with the reason header for the front proxy, before the token is
    /// looked at; on another path with a line of text.
    @Test func anOversizedHeadIs431() async throws {
        try await withService { url in
            let padding = [("X-Padding", String(repeating: "x", count: 33 << 10))]
            let answer = try await send(url + "/authz/mcp", headers: Self.base + padding, body: nil)
            #expect(answer.status == 431)
            #expect(answer.header("X-ScopeGate-Reason") == "request.header_too_large")
            #expect(errorCode(answer.body) == -32600)
            let health = try await send(url + "/healthz", method: "GET", headers: padding, body: nil)
            #expect(health.status == 431)
            #expect(health.body.hasPrefix("request header fields too large"))
        }
    }

    @Test func theRequestShapeOfEachProxyIsRecognized() {
        let nginx = DecisionRequest(
            method: "GET", path: "/authz", fields: [("X-Original-Method", "post"), ("X-Original-URI", "/mcp?x=1")],
            body: [])
        #expect(nginx.front == .nginx)
        #expect(nginx.method == "POST")
        #expect(nginx.uri == "/mcp?x=1")
        let caddy = DecisionRequest(
            method: "GET", path: "/authz", fields: [("X-Forwarded-Method", "DELETE"), ("X-Forwarded-Uri", "/mcp")],
            body: [])
        #expect(caddy.front == .caddy)
        #expect(caddy.method == "DELETE")
        let envoy = DecisionRequest(method: "POST", path: "/authz/mcp", fields: [("Mcp-Method", "x")], body: [1])
        #expect(envoy.front == .envoy)
        #expect(envoy.uri == "/mcp")
        #expect(envoy.headers.method == "x")
    }

    /// Any of the three methods saying POST, as Unicode uppercasing reads it, makes the decision a POST: a header
    /// slipped past the front proxy can only make it stricter.
    @Test func aMethodThatUppercasesToPostIsAPost() {
        for said in ["POST", "post", "pOsT", "poſt"] {
            let slipped = DecisionRequest(
                method: "GET", path: "/authz", fields: [("X-Forwarded-Method", "GET"), ("X-Original-Method", said)],
                body: [])
            #expect(slipped.method == "POST", "\(said)")
        }
        for said in ["POS", "POSTS", "pöst", "PO\u{0}ST"] {
            let other = DecisionRequest(method: "GET", path: "/authz", fields: [("X-Forwarded-Method", said)], body: [])
            #expect(other.method == said.uppercased(), "\(said)")
        }
    }

    @Test func theStartUpReportListsEachToolsArgumentsAndHeaders() throws {
        let report = PolicyArgumentReport(policy: try testStore().current.policy).text
        #expect(
            report.contains(
                "spend: amount (number; when) → Mcp-Param-amount; urgent (boolean; when) → Mcp-Param-urgent"))
        #expect(report.contains("file_manager: action (string; action) → Mcp-Param-action"))
        #expect(!report.contains("read_file"))
    }
}
