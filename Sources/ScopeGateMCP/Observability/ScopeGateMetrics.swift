import Foundation
import Metrics
import ScopeGate
import ScopeGateTokens

/// swift-metrics instruments (bootstrap a backend with `MetricsSystem.bootstrap`; the default is a no-op):
///
/// - `scopegate_decisions_total{outcome="allow|deny", reason}` — one per authorization decision;
/// - `scopegate_decision_duration` (timer, nanoseconds) — the policy decision alone;
/// - `scopegate_token_verifications_total{cache="hit|miss", result="ok|<TokenError code>"}`;
/// - `scopegate_idp_requests_total{kind="jwks|other", status}` — JWKS refreshes, discovery and introspection;
/// - `scopegate_policy_reloads_total{result="swapped|rejected"}`;
/// - `scopegate_token_exchanges_total{result="issued|cached|<TokenExchangeError code>"}` — RFC 8693 exchanges for
///   `downstream:` tools.
struct ScopeGateMetrics: Sendable {
    let decisionTimer = Metrics.Timer(label: "scopegate_decision_duration")

    func decided(_ decision: Decision, nanoseconds: UInt64) {
        Counter(
            label: "scopegate_decisions_total",
            dimensions: [("outcome", decision.allowed ? "allow" : "deny"), ("reason", decision.reason.rawValue)]
        ).increment()
        if nanoseconds > 0 { decisionTimer.recordNanoseconds(Int64(clamping: nanoseconds)) }
    }

    func tokenVerified(cached: Bool, code: String?) {
        Counter(
            label: "scopegate_token_verifications_total",
            dimensions: [("cache", cached ? "hit" : "miss"), ("result", code ?? "ok")]
        ).increment()
    }

    func idpRequest(kind: String, status: String) {
        Counter(label: "scopegate_idp_requests_total", dimensions: [("kind", kind), ("status", status)]).increment()
    }

    func exchanged(result: String) {
        Counter(label: "scopegate_token_exchanges_total", dimensions: [("result", result)]).increment()
    }

    func reloaded(swapped: Bool) {
        Counter(label: "scopegate_policy_reloads_total", dimensions: [("result", swapped ? "swapped" : "rejected")])
            .increment()
    }
}

/// Counts the identity provider requests the verifier makes (JWKS refreshes among them) in metrics.
struct MeteredFetcher: HTTPFetcher {
    let base: any HTTPFetcher
    let metrics: ScopeGateMetrics

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
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
