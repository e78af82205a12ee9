import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateHTTPTestSupport
import ScopeGateOperations
import ScopeGateProxy
import ScopeGateRequestAuthorization
import Testing

@testable import ScopeGateTokens

/// The proxy's operations: shadow mode end to end, audit lines, `/metrics`, `/readyz`.
@Suite(.serialized) struct ProxyOperationsTests {
    struct Harness {
        let port: Int
        let log: UpstreamLog
        let prometheus: PrometheusMetrics
        let auditPath: String
        let audit: AuditLog
    }

    /// A proxy over `proxyPolicy` with its own registry and audit file; `mode` overrides the policy's modes;
    /// `upstreamPort` points it somewhere else than the in-process upstream (e.g. nowhere).
    func withProxy(
        mode: PolicyMode?, upstreamPort: Int? = nil, probe: Bool = false, _ body: (Harness) async throws -> Void
    ) async throws {
        let store = PolicyStore(
            initial: try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: proxyPolicy).compiled())
        let log = UpstreamLog()
        let (up, upTask) = try await serveOnLoopback(Upstream(log: log))
        defer { upTask.cancel() }
        let prometheus = PrometheusMetrics()
        let auditPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("scopegate-proxy-audit-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: auditPath) }
        let audit = try AuditLog.open(auditPath, metrics: prometheus.metrics)
        var configuration = ProxyConfiguration(
            upstream: "http://127.0.0.1:\(upstreamPort ?? up)/mcp", upstreamTimeout: .seconds(2))
        configuration.authorization.mode = mode
        let proxy = MCPProxy(
            store: store, configuration: configuration,
            authenticate: { header, policy in
                guard let token = BearerChallenge.token(fromAuthorization: header) else { return .missing }
                guard let granted = ProxyTests.scopes[token] else {
                    return .invalid(TokenError(.malformed, "unknown test token"))
                }
                return .granted(policy.grant(granted), expiresAt: Date(timeIntervalSinceNow: 60), stripPrefixes: [])
            },
            operations: ProxyOperations(
                reporter: DecisionReporter(audit: audit, metrics: prometheus.metrics), prometheus: prometheus))
        let (port, task) = try await serveProxy(proxy)
        defer { task.cancel() }
        let probing = probe ? Task { await proxy.probeUpstream(interval: .milliseconds(50)) } : nil
        defer { probing?.cancel() }
        try await body(Harness(port: port, log: log, prometheus: prometheus, auditPath: auditPath, audit: audit))
    }

    func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    func auditEvents(_ harness: Harness) async throws -> [[String: JSONValue]] {
        await harness.audit.close()
        let text = try String(contentsOfFile: harness.auditPath, encoding: .utf8)
        return try text.split(separator: "\n").map { line in
            guard case .object(let object) = try JSONParser().parse(String(line)) else { throw CancellationError() }
            return object
        }
    }

    func metric(_ harness: Harness, _ series: String) -> Double? {
        let text = String(decoding: harness.prometheus.exposition(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    let writeCall = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"write_file"}}"#

    @Test func inShadowModeADeniedCallReachesTheUpstreamAndIsAuditedAsWouldDeny() async throws {
        try await withProxy(mode: .shadow) { harness in
            let answer = try await ProxyTests().post(harness.port, writeCall, token: "reader")
            #expect(answer.status == 200)
            #expect(harness.log.methods == ["tools/call"])
            #expect(harness.log.authorizations.isEmpty)  // shadow mode changes nothing about token passthrough
            let events = try await auditEvents(harness)
            #expect(events.count == 1)
            #expect(events.first?["allowed"] == .bool(false))
            #expect(events.first?["would_deny"] == .bool(true))
            #expect(events.first?["reason"] == .string("missing_scope"))
            #expect(
                metric(harness, #"scopegate_decisions_total{outcome="would_deny",reason="missing_scope"}"#) == 1)
            // A missing token is still refused in shadow mode.
            let anonymous = try await ProxyTests().post(harness.port, writeCall, token: nil)
            #expect(anonymous.status == 401)
            #expect(harness.log.methods == ["tools/call"])
        }
    }

    @Test func inEnforceModeTheDenialIsRefusedAuditedAndCounted() async throws {
        try await withProxy(mode: nil) { harness in
            let denied = try await ProxyTests().post(harness.port, writeCall, token: "reader")
            #expect(denied.status == 403)
            let allowed = try await ProxyTests().post(
                harness.port, #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}}"#,
                token: "reader")
            #expect(allowed.status == 200)
            #expect(harness.log.methods == ["tools/call"])
            let events = try await auditEvents(harness)
            #expect(events.map { $0["allowed"] } == [.bool(false), .bool(true)])
            #expect(events.map { $0["would_deny"] } == [nil, nil])
            #expect(metric(harness, #"scopegate_decisions_total{outcome="deny",reason="missing_scope"}"#) == 1)
            #expect(metric(harness, #"scopegate_decisions_total{outcome="allow",reason="allowed"}"#) == 1)
            // `/metrics` serves the same exposition, with the request latencies by status.
            let page = try await get(harness.port, "/metrics")
            #expect(page.status == 200)
            #expect(page.body.contains(#"scopegate_request_duration_seconds_count{status="403"} 1"#))
            #expect(page.body.contains(#"scopegate_request_duration_seconds_count{status="200"} 1"#))
            #expect(page.body.contains("scopegate_decision_duration_seconds_count 2"))
        }
    }

    @Test func readyOnceTheUpstreamAnswered() async throws {
        // Nothing listens on port 9: never ready, and a forwarded call is a counted upstream error.
        try await withProxy(mode: nil, upstreamPort: 9, probe: true) { harness in
            #expect(try await get(harness.port, "/readyz").status == 503)
            #expect(try await get(harness.port, "/readyz").body == "not ready: upstream\n")
            #expect(try await get(harness.port, "/healthz").status == 200)
            let failed = try await ProxyTests().post(
                harness.port, #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file"}}"#,
                token: "reader")
            #expect(failed.status == 502)
            #expect(metric(harness, #"scopegate_upstream_errors_total{kind="unreachable"}"#) == 1)
            #expect(try await get(harness.port, "/readyz").status == 503)
        }
        // The probe finds the in-process upstream without any client request.
        try await withProxy(mode: nil, probe: true) { harness in
            var status = 0
            for _ in 0..<100 {
                status = try await get(harness.port, "/readyz").status
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status == 200)
        }
    }
}
