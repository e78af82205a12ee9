import Foundation
import Metrics
import ScopeGate
import ScopeGateTokens

/// Every swift-metrics instrument ScopeGate records, in one place, used by the embedded adapter (`ScopeGateMCP`)
/// and the gateways (`scopegate proxy`, `scopegate authz`). The instruments go to `factory`: by default the
/// process-wide backend (`MetricsSystem.bootstrap`, a no-op until bootstrapped; the gateways bootstrap
/// Prometheus with ``PrometheusMetrics/bootstrap()``).
///
/// - `scopegate_decisions_total{outcome="allow|deny|would_deny", reason}`: one per decided message;
///   `would_deny` is a denial that shadow mode let through;
/// - `scopegate_decision_duration_seconds` (histogram): the policy decision alone;
/// - `scopegate_request_duration_seconds{status}` (histogram): a gateway's whole answer to one HTTP request, to
///   the response head (a streamed body is not waited for);
/// - `scopegate_token_verifications_total{cache="hit|miss", result="ok|<TokenError code>"}`;
/// - `scopegate_idp_requests_total{kind="jwks|other", status}`: JWKS refreshes, discovery and introspection;
/// - `scopegate_upstream_errors_total{kind="unreachable|unreadable|unfilterable"}`: a gateway's upstream faults;
/// - `scopegate_policy_reloads_total{result="swapped|rejected"}`;
/// - `scopegate_token_exchanges_total{result="issued|cached|<TokenExchangeError code>"}`: RFC 8693 exchanges for
///   `downstream:` tools;
/// - `scopegate_audit_events_dropped_total`: audit events dropped because the writer fell too far behind.
///
/// No label ever carries a value the client chooses (a tool name, a token): label values come from fixed sets.
///
/// ```swift
/// let metrics = ScopeGateMetrics()                      // or ScopeGateMetrics(factory: prometheusFactory)
/// metrics.decided(outcome: .wouldDeny, reason: "missing_scope", nanoseconds: 850)
/// ```
public struct ScopeGateMetrics: Sendable {
    /// The `outcome` label of `scopegate_decisions_total`.
    public enum Outcome: String, Sendable {
        case allow
        case deny
        /// Denied by the policy, let through by shadow mode.
        case wouldDeny = "would_deny"
    }

    let factory: any MetricsFactory

    /// Records into `factory` (default: the process-wide backend).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// One decided message.
    public func decided(outcome: Outcome, reason: String, nanoseconds: UInt64) {
        Counter(
            label: "scopegate_decisions_total", dimensions: [("outcome", outcome.rawValue), ("reason", reason)],
            factory: factory
        ).increment()
        if nanoseconds > 0 {
            Metrics.Timer(label: "scopegate_decision_duration_seconds", factory: factory)
                .recordNanoseconds(Int64(clamping: nanoseconds))
        }
    }

    /// One decision of the core (the embedded adapter, which enforces).
    public func decided(_ decision: Decision, nanoseconds: UInt64) {
        decided(outcome: decision.allowed ? .allow : .deny, reason: decision.reason.rawValue, nanoseconds: nanoseconds)
    }

    /// One HTTP request answered by a gateway, from arrival to the response head.
    public func requestCompleted(status: Int, nanoseconds: UInt64) {
        Metrics.Timer(
            label: "scopegate_request_duration_seconds", dimensions: [("status", String(status))], factory: factory
        ).recordNanoseconds(Int64(clamping: nanoseconds))
    }

    public func tokenVerified(cached: Bool, code: String?) {
        Counter(
            label: "scopegate_token_verifications_total",
            dimensions: [("cache", cached ? "hit" : "miss"), ("result", code ?? "ok")], factory: factory
        ).increment()
    }

    public func idpRequest(kind: String, status: String) {
        Counter(
            label: "scopegate_idp_requests_total", dimensions: [("kind", kind), ("status", status)], factory: factory
        ).increment()
    }

    /// An upstream fault of a gateway: `unreachable` (no answer), `unreadable` (an answer that could not be read),
    /// `unfilterable` (a list answer in a form that cannot be filtered, refused).
    public func upstreamError(kind: String) {
        Counter(label: "scopegate_upstream_errors_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    public func exchanged(result: String) {
        Counter(label: "scopegate_token_exchanges_total", dimensions: [("result", result)], factory: factory)
            .increment()
    }

    public func reloaded(swapped: Bool) {
        Counter(
            label: "scopegate_policy_reloads_total", dimensions: [("result", swapped ? "swapped" : "rejected")],
            factory: factory
        ).increment()
    }

    public func auditDropped(_ count: Int) {
        Counter(label: "scopegate_audit_events_dropped_total", factory: factory).increment(by: count)
    }
}

/// Counts the identity provider requests the verifier makes (JWKS refreshes among them) in metrics.
///
/// ```swift
/// let fetcher = MeteredFetcher(base: URLSessionFetcher(), metrics: ScopeGateMetrics())
/// ```
public struct MeteredFetcher: HTTPFetcher {
    let base: any HTTPFetcher
    let metrics: ScopeGateMetrics

    public init(base: any HTTPFetcher, metrics: ScopeGateMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let kind = request.url.path.lowercased().contains("jwk") ? "jwks" : "other"
        do {
            let response = try await base.fetch(request)
            metrics.idpRequest(kind: kind, status: String(response.status))
            return response
        } catch {
            metrics.idpRequest(kind: kind, status: "error")
            throw error
        }
    }
}
