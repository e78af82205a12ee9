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
/// - `scopegate_upstream_errors_total{kind="unreachable|timeout|unreadable|unfilterable|unauthorized|stream_broken"}`:
///   a gateway's upstream faults (``upstreamError(kind:)``);
/// - `scopegate_policy_reloads_total{result="swapped|rejected"}`;
/// - `scopegate_token_exchanges_total{result="issued|cached|<TokenExchangeError code>"}`: RFC 8693 exchanges for
///   `downstream:` tools;
/// - `scopegate_limit_refusals_total{reason}`: requests refused by a limit before any decision, by stable reason
///   (`request.header_too_large`, `request.too_large`, `stream.limit`, `stream.principal_limit`);
/// - `scopegate_streams_open` (gauge): the stream slots a proxy holds (``streamsOpen(_:)``);
/// - `scopegate_audit_events_dropped_total`: audit events dropped because the writer fell too far behind;
/// - `scopegate_bundle_fetches_total{result="200|304|error"}`: polls of a bundle URL (`error`: no answer, an
///   answer that could not be read, or any other status);
/// - `scopegate_policy_info{revision}` (gauge, 1): the revision in force (a bundle's; a file's or directory's
///   content hash), one series at a time;
/// - `scopegate_policy_last_activation_timestamp_seconds` (gauge): when a policy was last put in force (Unix time);
/// - `scopegate_policy_activation_failures_total{cause="fetch|verify|extract|compile|persist"}`: policies that
///   were not put in force, by the step that failed (`persist`: a bundle put in force, but not saved to the
///   cache; a file source has only `compile`).
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
    /// The handles of the per-request instruments (decisions, request durations, token verifications).
    let handles = MetricHandles()

    /// Records into `factory` (default: the process-wide backend).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    /// One decided message.
    public func decided(outcome: Outcome, reason: String, nanoseconds: UInt64) {
        let make = {
            Counter(
                label: "scopegate_decisions_total", dimensions: [("outcome", outcome.rawValue), ("reason", reason)],
                factory: factory)
        }
        let counter =
            outcome == .allow && reason == Decision.Reason.allowed.rawValue
            ? MetricHandles.hot(handles.allowed, make)
            : handles.counter(
                .init(label: "scopegate_decisions_total", first: outcome.rawValue, second: reason), make: make)
        counter.increment()
        if nanoseconds > 0 {
            MetricHandles.hot(handles.decisionDuration) {
                Metrics.Timer(label: "scopegate_decision_duration_seconds", factory: factory)
            }.recordNanoseconds(Int64(clamping: nanoseconds))
        }
    }

    /// One decision of the core (the embedded adapter, which enforces).
    public func decided(_ decision: Decision, nanoseconds: UInt64) {
        decided(outcome: decision.allowed ? .allow : .deny, reason: decision.reason.rawValue, nanoseconds: nanoseconds)
    }

    /// One HTTP request answered by a gateway, from arrival to the response head.
    public func requestCompleted(status: Int, nanoseconds: UInt64) {
        let make = { (code: String) in
            Metrics.Timer(label: "scopegate_request_duration_seconds", dimensions: [("status", code)], factory: factory)
        }
        let timer: Metrics.Timer
        if status == 200 {
            timer = MetricHandles.hot(handles.answered200) { make("200") }
        } else {
            let code = String(status)
            timer = handles.timer(.init(label: "scopegate_request_duration_seconds", first: code)) { make(code) }
        }
        timer.recordNanoseconds(Int64(clamping: nanoseconds))
    }

    public func tokenVerified(cached: Bool, code: String?) {
        let cache = cached ? "hit" : "miss"
        let result = code ?? "ok"
        let make = {
            Counter(
                label: "scopegate_token_verifications_total", dimensions: [("cache", cache), ("result", result)],
                factory: factory)
        }
        let counter =
            cached && code == nil
            ? MetricHandles.hot(handles.tokenCacheHit, make)
            : handles.counter(
                .init(label: "scopegate_token_verifications_total", first: cache, second: result), make: make)
        counter.increment()
    }

    public func idpRequest(kind: String, status: String) {
        Counter(
            label: "scopegate_idp_requests_total", dimensions: [("kind", kind), ("status", status)], factory: factory
        ).increment()
    }

    /// An upstream fault of a gateway: `unreachable` (no answer), `timeout` (no answer's head in time),
    /// `unreadable` (an answer that could not be read), `unfilterable` (a list answer in a form that cannot be
    /// filtered, refused), `unauthorized` (the upstream refused the gateway's own credential with 401),
    /// `stream_broken` (an event stream the upstream broke off).
    public func upstreamError(kind: String) {
        Counter(label: "scopegate_upstream_errors_total", dimensions: [("kind", kind)], factory: factory).increment()
    }

    /// A request refused by a limit before any decision; `reason` is a stable code from a fixed set (a
    /// `RequestRejection` code id, or a stream limit's reason).
    public func limitRefused(reason: String) {
        Counter(label: "scopegate_limit_refusals_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// The number of stream slots a proxy holds now (streams open, and requests that may answer with one still
    /// waiting for their answer's head).
    public func streamsOpen(_ count: Int) {
        let gauge = MetricHandles.hot(handles.streamsOpen) { Gauge(label: "scopegate_streams_open", factory: factory) }
        gauge.record(count)
    }

    public func exchanged(result: String) {
        Counter(label: "scopegate_token_exchanges_total", dimensions: [("result", result)], factory: factory)
            .increment()
    }

    /// A reload of the policy (`by: 0` creates the series).
    public func reloaded(swapped: Bool, by count: Int = 1) {
        Counter(
            label: "scopegate_policy_reloads_total", dimensions: [("result", swapped ? "swapped" : "rejected")],
            factory: factory
        ).increment(by: count)
    }

    /// The `result` label of `scopegate_bundle_fetches_total`.
    public enum FetchResult: String, Sendable {
        /// A new bundle was downloaded.
        case ok = "200"
        /// The bundle in force is current (`If-None-Match` matched).
        case notModified = "304"
        /// No answer, an unreadable one, or another status.
        case error
    }

    /// The `cause` label of `scopegate_policy_activation_failures_total`: the step that failed.
    public enum ActivationFailure: String, Sendable, CaseIterable {
        /// The bundle could not be downloaded (see `scopegate_bundle_fetches_total{result="error"}`).
        case fetch
        /// A bad signature, a wrong key, an unsigned bundle where a key is configured, a tampered file.
        case verify
        /// The policy files could not be written out to compile them.
        case extract
        /// The policy has errors.
        case compile
        /// Put in force, but not saved to the cache directory: a restart would start from an older one.
        case persist
    }

    /// One poll of a bundle URL.
    public func bundleFetched(_ result: FetchResult) {
        Counter(label: "scopegate_bundle_fetches_total", dimensions: [("result", result.rawValue)], factory: factory)
            .increment()
    }

    /// A policy revision (a bundle's, or a file's content hash) was put in force at `time`; the series of
    /// `previous` (the revision it replaced) is removed, so `scopegate_policy_info` has one series.
    public func policyActivated(revision: String, previous: String?, time: Date) {
        if let previous, previous != revision {
            Gauge(label: "scopegate_policy_info", dimensions: [("revision", previous)], factory: factory).destroy()
        }
        Gauge(label: "scopegate_policy_info", dimensions: [("revision", revision)], factory: factory).record(1)
        Gauge(label: "scopegate_policy_last_activation_timestamp_seconds", factory: factory)
            .record(time.timeIntervalSince1970)
    }

    /// Creates every bundle series at 0 (each fetch result, each activation failure cause), so that a dashboard
    /// and an alert on `increase(…)` see the first failure as a rise rather than a new series.
    public func registerBundleSeries() {
        for result in [FetchResult.ok, .notModified, .error] {
            Counter(
                label: "scopegate_bundle_fetches_total", dimensions: [("result", result.rawValue)], factory: factory
            )
            .increment(by: 0)
        }
        for cause in ActivationFailure.allCases { activationFailed(cause, by: 0) }
    }

    /// A policy that was not put in force (or, for `persist`, a bundle not saved); `by: 0` creates the series.
    public func activationFailed(_ cause: ActivationFailure, by count: Int = 1) {
        Counter(
            label: "scopegate_policy_activation_failures_total", dimensions: [("cause", cause.rawValue)],
            factory: factory
        ).increment(by: count)
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
