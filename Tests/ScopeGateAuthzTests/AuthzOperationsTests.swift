import Foundation
import ScopeGate
import ScopeGateAuthz
import ScopeGateHTTPTestSupport
import ScopeGateOperations
import ScopeGateRequestAuthorization
import Testing

/// `authz` audits and counts every decision, serves `/metrics`, and shadows denials as the proxy does.
@Suite struct AuthzOperationsTests {
    struct Harness {
        let url: String
        let prometheus: PrometheusMetrics
        let auditPath: String
        let audit: AuditLog
    }

    func withService(mode: PolicyMode?, _ body: (Harness) async throws -> Void) async throws {
        let prometheus = PrometheusMetrics()
        let auditPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("scopegate-authz-audit-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: auditPath) }
        let audit = try AuditLog.open(auditPath, metrics: prometheus.metrics)
        var configuration = AuthzConfiguration()
        configuration.authorization.mode = mode
        let service = AuthzService(
            store: try testStore(), configuration: configuration, authenticate: testAuthenticate,
            reporter: DecisionReporter(audit: audit, metrics: prometheus.metrics), prometheus: prometheus)
        try await withAuthzServer(service) { port in
            try await body(
                Harness(url: "http://127.0.0.1:\(port)", prometheus: prometheus, auditPath: auditPath, audit: audit))
        }
    }

    func writeFile(_ harness: Harness, token: String) async throws -> Int {
        try await send(
            harness.url + "/authz", method: "GET",
            headers: [
                ("MCP-Protocol-Version", "2026-07-28"), ("X-Original-Method", "POST"), ("Mcp-Method", "tools/call"),
                ("Mcp-Name", "write_file"), ("Authorization", "Bearer \(token)"),
            ], body: nil
        ).status
    }

    func events(_ harness: Harness) async throws -> [[String: JSONValue]] {
        await harness.audit.close()
        let text = try String(contentsOfFile: harness.auditPath, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard case .object(let object) = try JSONParser().parse(String(line)) else { throw CancellationError() }
            return object
        }
    }

    @Test func enforcedDecisionsAreAuditedAndCounted() async throws {
        try await withService(mode: nil) { harness in
            #expect(try await writeFile(harness, token: "writer") == 200)
            #expect(try await writeFile(harness, token: "reader") == 403)
            let events = try await events(harness)
            #expect(events.count == 2)
            #expect(events.map { $0["allowed"] } == [.bool(true), .bool(false)])
            #expect(events.allSatisfy { $0["tool"] == .string("write_file") && $0["would_deny"] == nil })
            let metrics = try await send(harness.url + "/metrics", method: "GET", headers: [], body: nil)
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"scopegate_decisions_total{outcome="allow",reason="allowed"} 1"#))
            #expect(metrics.body.contains(#"scopegate_decisions_total{outcome="deny",reason="missing_scope"} 1"#))
        }
    }

    @Test func shadowModeLetsADenialThroughAndAuditsItWouldDeny() async throws {
        try await withService(mode: .shadow) { harness in
            #expect(try await writeFile(harness, token: "reader") == 200)
            // Shadow relaxes scope decisions only: an unknown token is still refused.
            #expect(try await writeFile(harness, token: "nobody") == 401)
            let events = try await events(harness)
            let shadowed = events.filter { $0["would_deny"] == .bool(true) }
            #expect(shadowed.count == 1)
            #expect(shadowed.first?["allowed"] == .bool(false))
            let metrics = try await send(harness.url + "/metrics", method: "GET", headers: [], body: nil)
            #expect(metrics.body.contains(#"scopegate_decisions_total{outcome="would_deny",reason="missing_scope"} 1"#))
        }
    }
}
