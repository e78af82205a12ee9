import Foundation
import ScopeGate
import ScopeGateOperations
import ScopeGateRequestAuthorization
import ScopeGateTokens
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

let operationsPolicy = """
    version: 1
    scopes:
      files:read: {}
      files:write: { implies: [files:read] }
    tools:
      read_file: files:read
      write_file: { requires: files:write, mode: shadow }
      delete_file: files:write
    audit:
      arguments: [path]
    """

func compiled(_ source: String) throws -> CompiledPolicy {
    try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).compiled()
}

/// A 2025-11-25 `tools/call` POST.
func call(_ tool: String, arguments: String = #"{"path":"/tmp/a","mode":"x"}"#) -> MCPHTTPRequest {
    let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
    return MCPHTTPRequest(
        method: "POST", headers: MCPRequestHeaders([("MCP-Protocol-Version", "2025-11-25")]), body: Array(body.utf8))
}

func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-ops-\(UUID().uuidString)-\(name)").path
}

/// The value of one sample line `name{labels} value` of a Prometheus exposition (nil when absent).
func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

@Suite struct AuditAndMetricsTests {
    /// Decides four requests (allowed, shadowed, denied, no token), reports them to an audit file and a registry
    /// of its own, and returns the audit lines and the exposition.
    func decideAndReport() async throws -> (lines: [String], exposition: String) {
        let policy = try compiled(operationsPolicy)
        let store = PolicyStore(initial: policy)
        let snapshot = store.current
        let path = temporaryPath("audit.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let prometheus = PrometheusMetrics()
        let audit = try AuditLog.open(path, metrics: prometheus.metrics)
        let reporter = DecisionReporter(
            audit: audit, metrics: prometheus.metrics, now: { Date(timeIntervalSince1970: 1_800_000_000) })
        let authorizer = RequestAuthorizer(policy: policy)
        let reader = Credential.granted(
            policy.grant(["files:read"]), expiresAt: nil, stripPrefixes: [])
        for (request, credential) in [
            (call("read_file"), reader), (call("write_file"), reader), (call("delete_file"), reader),
            (call("read_file"), Credential.missing),
        ] {
            let verdict = authorizer.authorize(request, credential: credential)
            reporter.report(verdict, credential: credential, token: nil, snapshot: snapshot, nanoseconds: 1500)
        }
        // A refusal before any decision is neither audited nor counted.
        let malformed = MCPHTTPRequest(
            method: "POST", headers: MCPRequestHeaders([("MCP-Protocol-Version", "2025-11-25")]), body: Array("{".utf8))
        reporter.report(
            authorizer.authorize(malformed, credential: reader), credential: reader, token: nil, snapshot: snapshot,
            nanoseconds: 1)
        await audit.close()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return (text.split(separator: "\n").map(String.init), String(decoding: prometheus.exposition(), as: UTF8.self))
    }

    @Test func everyDecisionIsOneAuditLineAndShadowedOnesSayWouldDeny() async throws {
        let (lines, _) = try await decideAndReport()
        #expect(lines.count == 4)
        let events = try lines.map { line -> [String: JSONValue] in
            guard case .object(let object) = try JSONParser().parse(line) else { throw CancellationError() }
            return object
        }
        #expect(
            events.map { $0["tool"] } == Array(repeating: .string("read_file"), count: 1) + [
                .string("write_file"), .string("delete_file"), .string("read_file"),
            ])
        #expect(events.map { $0["allowed"] } == [.bool(true), .bool(false), .bool(false), .bool(false)])
        #expect(
            events.map { $0["reason"] } == [
                .string("allowed"), .string("missing_scope"), .string("missing_scope"), .string("invalid_token"),
            ])
        // `would_deny` only on the shadowed denial, and absent (not false) elsewhere.
        #expect(events.map { $0["would_deny"] } == [nil, .bool(true), nil, nil])
        #expect(events[1]["missing"] == .array([.string("files:write")]))
        // Arguments the policy does not list are redacted, on core and non-core events alike.
        for event in events {
            guard case .object(let arguments)? = event["arguments"] else {
                Issue.record("no arguments")
                continue
            }
            #expect(arguments["path"] == .string("/tmp/a"))
            #expect(arguments["mode"] == .string("[redacted]"))
        }
        #expect(events[0]["time"] == .string("2027-01-15T08:00:00.000"))
    }

    @Test func suggestReadsTheAuditLines() async throws {
        let (lines, _) = try await decideAndReport()
        var aggregator = UsageAggregator(clientFilter: nil)
        for (number, line) in lines.enumerated() {
            #expect(aggregator.add(line: line, number: number + 1) == nil)
        }
        #expect(aggregator.malformed == 0)
        #expect(aggregator.lines == 4)
        // The allowed call and the shadowed denial went through, so both are usage; the others were refused.
        #expect(aggregator.usage.first?.allowed == 2)
    }

    @Test func theMetricsCountDecisionsByOutcomeAndReason() async throws {
        let (_, exposition) = try await decideAndReport()
        #expect(sample(exposition, #"scopegate_decisions_total{outcome="allow",reason="allowed"}"#) == 1)
        #expect(sample(exposition, #"scopegate_decisions_total{outcome="would_deny",reason="missing_scope"}"#) == 1)
        #expect(sample(exposition, #"scopegate_decisions_total{outcome="deny",reason="missing_scope"}"#) == 1)
        #expect(sample(exposition, #"scopegate_decisions_total{outcome="deny",reason="invalid_token"}"#) == 1)
        // One duration per decided request (the malformed one is not decided).
        #expect(sample(exposition, "scopegate_decision_duration_seconds_count") == 4)
        #expect(sample(exposition, #"scopegate_decision_duration_seconds_bucket{le="0.000002"}"#) == 4)
        #expect(sample(exposition, #"scopegate_decision_duration_seconds_bucket{le="0.000001"}"#) == 0)
    }

    @Test func theOtherInstrumentsAreExposedUnderTheirNames() {
        let prometheus = PrometheusMetrics()
        let metrics = prometheus.metrics
        metrics.requestCompleted(status: 200, nanoseconds: 300_000)
        metrics.upstreamError(kind: "unreachable")
        metrics.tokenVerified(cached: true, code: nil)
        metrics.reloaded(swapped: false)
        metrics.auditDropped(2)
        let text = String(decoding: prometheus.exposition(), as: UTF8.self)
        #expect(sample(text, #"scopegate_request_duration_seconds_count{status="200"}"#) == 1)
        #expect(sample(text, #"scopegate_request_duration_seconds_bucket{status="200",le="0.00025"}"#) == 0)
        #expect(sample(text, #"scopegate_request_duration_seconds_bucket{status="200",le="0.0005"}"#) == 1)
        #expect(sample(text, #"scopegate_upstream_errors_total{kind="unreachable"}"#) == 1)
        #expect(sample(text, #"scopegate_token_verifications_total{cache="hit",result="ok"}"#) == 1)
        #expect(sample(text, #"scopegate_policy_reloads_total{result="rejected"}"#) == 1)
        #expect(sample(text, "scopegate_audit_events_dropped_total") == 2)
    }

    @Test func theAuditLogDropsAndCountsWhatItCannotHold() async throws {
        let prometheus = PrometheusMetrics()
        let path = temporaryPath("small.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = try AuditLog.open(path, maxPendingBytes: 0, metrics: prometheus.metrics)
        let event = AuditEvent(
            time: Date(), clientID: nil, subject: nil, tokenID: nil, method: "tools/call", tool: "t", action: nil,
            arguments: [:], granted: [], allowed: true, reason: "allowed", required: [], missing: [], rule: nil,
            policyVersion: "v")
        audit.write(event)
        await audit.close()
        audit.write(event)  // after close: dropped too
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
        let text = String(decoding: prometheus.exposition(), as: UTF8.self)
        #expect(sample(text, "scopegate_audit_events_dropped_total") == 2)
    }

    @Test func anUnwritableAuditPathIsAClearError() {
        #expect(throws: AuditLogError.self) { try AuditLog.open("/nonexistent-dir/audit.jsonl") }
    }
}

@Suite struct ReadinessTests {
    @Test func readyOnlyWhileEveryConditionIsMet() throws {
        let readiness = Readiness(conditions: ["policy", "upstream"])
        let endpoints = OperationsEndpoints(readiness: readiness, prometheus: PrometheusMetrics())
        #expect(endpoints.respond(path: "/readyz")?.status == 503)
        #expect(endpoints.respond(path: "/readyz")?.body == Array("not ready: policy, upstream\n".utf8))
        readiness.set("policy")
        #expect(endpoints.respond(path: "/readyz")?.status == 503)
        readiness.set("upstream")
        #expect(endpoints.respond(path: "/readyz")?.status == 200)
        #expect(endpoints.respond(path: "/healthz")?.status == 200)
        #expect(endpoints.respond(path: "/metrics")?.contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(endpoints.respond(path: "/mcp") == nil)
        let withoutMetrics = OperationsEndpoints(readiness: readiness, prometheus: nil)
        #expect(withoutMetrics.respond(path: "/metrics") == nil)
    }
}

@Suite(.serialized) struct ReloadTests {
    let good = "version: 1\nscopes:\n  files:read: {}\ntools:\n  read_file: files:read\n"
    let changed = "version: 1\nscopes:\n  files:read: {}\n  files:write: {}\ntools:\n  read_file: files:write\n"

    func decide(_ store: PolicyStore) -> Bool {
        let policy = store.current.policy
        return policy.isAllowed(.tool("read_file"), grant: policy.grant(["files:read"]))
    }

    @Test func aChangedFileIsSwappedInAndABadOneKeepsTheLastGoodPolicy() throws {
        let path = temporaryPath("policy.yaml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let store = try PolicyStore(path: path)
        let prometheus = PrometheusMetrics()
        let reloader = PolicyReloader(store: store, path: path, metrics: prometheus.metrics)
        #expect(!reloader.poll())  // nothing changed
        #expect(decide(store))

        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reloader.poll())
        #expect(!decide(store))
        let swappedVersion = store.current.version

        try "version: 1\ntools:\n  read_file: files:nope\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(reloader.poll())
        #expect(store.current.version == swappedVersion)  // the last good policy stays
        #expect(!decide(store))
        let text = String(decoding: prometheus.exposition(), as: UTF8.self)
        #expect(sample(text, #"scopegate_policy_reloads_total{result="swapped"}"#) == 1)
        #expect(sample(text, #"scopegate_policy_reloads_total{result="rejected"}"#) == 1)
        #expect(sample(text, #"scopegate_policy_activation_failures_total{cause="compile"}"#) == 1)
        // One revision series: the swapped-in policy's content hash, the start's one removed.
        let revision = store.current.policy.model.contentHash
        #expect(sample(text, #"scopegate_policy_info{revision="\#(revision)"}"#) == 1)
        #expect(text.components(separatedBy: "scopegate_policy_info{").count == 2)
    }

    @Test func aFileSourceReportsItsRevisionFromTheStart() throws {
        let path = temporaryPath("policy.yaml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let store = try PolicyStore(path: path)
        let prometheus = PrometheusMetrics()
        _ = PolicyReloader(
            store: store, path: path, metrics: prometheus.metrics, now: { Date(timeIntervalSince1970: 1_765_000_000) })
        let text = String(decoding: prometheus.exposition(), as: UTF8.self)
        let revision = store.current.policy.model.contentHash
        #expect(sample(text, #"scopegate_policy_info{revision="\#(revision)"}"#) == 1)
        #expect(sample(text, "scopegate_policy_last_activation_timestamp_seconds") == 1_765_000_000)
        #expect(sample(text, #"scopegate_policy_activation_failures_total{cause="compile"}"#) == 0)
        #expect(sample(text, #"scopegate_policy_reloads_total{result="rejected"}"#) == 0)
    }

    @Test func sighupReloadsAndRunsTheExtraAction() async throws {
        let path = temporaryPath("policy.yaml")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let store = try PolicyStore(path: path)
        let reopened = Flag()
        let reloader = PolicyReloader(store: store, path: path, onSIGHUP: { reopened.set() })
        reloader.reloadOnSIGHUP()
        try changed.write(toFile: path, atomically: true, encoding: .utf8)
        kill(getpid(), SIGHUP)
        // Up to 20 s: under ThreadSanitizer on a busy machine the signal's handler can take seconds to run.
        for _ in 0..<800 where decide(store) || !reopened.isSet { try await Task.sleep(for: .milliseconds(25)) }
        #expect(!decide(store))
        #expect(reopened.isSet)
    }

    /// A signal sent right after a handler is installed is seen, by every handler a process installs in turn (a
    /// reloaded reloader replaces its handler): installing one must neither return before the signal source is
    /// registered, nor set `SIGHUP` back to ignored once the dispatch library has put its own handler in place.
    @Test func everyHandlerSeesASignalSentRightAfterItIsInstalled() async throws {
        for round in 0..<5 {
            let seen = Flag()
            let hangup = HangupSignal { seen.set() }
            kill(getpid(), SIGHUP)
            for _ in 0..<200 where !seen.isSet { try await Task.sleep(for: .milliseconds(25)) }
            hangup.cancel()
            #expect(seen.isSet, "round \(round)")
        }
    }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
