import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Reports what a gateway decided for one HTTP request: one audit event per decided message (the record the
/// embedded adapter writes and `scopegate suggest` reads; `"would_deny": true` on a denial shadow mode let
/// through) and the decision metrics. The one place where `scopegate proxy` and `scopegate authz` turn an
/// ``AuthorizationVerdict`` into operations data.
///
/// - an allowed message: `allowed: true`, outcome `allow`;
/// - a denied one: `allowed: false`, outcome `deny`, or `would_deny` with `"would_deny": true` when shadowed;
/// - a 401 (no token, or a refused one): one `invalid_token` event for the call, without principal or grant;
/// - refusals before any decision (400, 405, 413) and a client's JSON-RPC responses are not decisions: neither
///   audited nor counted as decisions; a refusal by a limit (413) is counted in
///   `scopegate_limit_refusals_total`.
///
/// ```swift
/// let reporter = DecisionReporter(audit: try AuditLog.open("-"), metrics: ScopeGateMetrics())
/// let verdict = authorizer.authorize(request, credential: credential)
/// reporter.report(verdict, credential: credential, token: verifiedToken, snapshot: snapshot, nanoseconds: elapsed)
/// ```
public struct DecisionReporter: Sendable {
    public let audit: AuditLog?
    public let metrics: ScopeGateMetrics
    let sink: (@Sendable (AuditEvent) -> Void)?
    let now: @Sendable () -> Date

    /// - Parameters:
    ///   - audit: where audit events go as JSON lines.
    ///   - sink: also receives every event (the embedded adapter's logger and `auditSink`). With neither
    ///     `audit` nor `sink`, no event is built.
    ///   - now: the clock of the events' `time`.
    public init(
        audit: AuditLog?, sink: (@Sendable (AuditEvent) -> Void)? = nil, metrics: ScopeGateMetrics,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.audit = audit
        self.sink = sink
        self.metrics = metrics
        self.now = now
    }

    /// Audits and counts the decisions of `verdict`, made with `snapshot` in `nanoseconds`. `token` is the
    /// verified token behind a `granted` credential (its client, subject and `jti` go into the events).
    public func report(
        _ verdict: AuthorizationVerdict, credential: Credential, token: VerifiedToken?, snapshot: PolicySnapshot,
        nanoseconds: UInt64
    ) {
        if verdict.outcome == .reject {
            if let rejection = verdict.rejection, rejection.code == .tooLarge || rejection.code == .headerTooLarge {
                metrics.limitRefused(reason: rejection.code.id)
            }
            return
        }
        var counted = false
        let decisions = verdict.decisions
        // By index: iterating would copy every decision, and most are only counted.
        for index in decisions.indices {
            guard let call = decisions[index].call else { continue }
            let outcome: ScopeGateMetrics.Outcome =
                decisions[index].allowed ? .allow : decisions[index].shadowed ? .wouldDeny : .deny
            metrics.decided(outcome: outcome, reason: decisions[index].reason, nanoseconds: counted ? 0 : nanoseconds)
            counted = true
            guard audit != nil || sink != nil else { continue }
            let event = event(
                decisions[index], call: call, credential: credential, token: token, snapshot: snapshot)
            audit?.write(event)
            sink?(event)
        }
    }

    /// The audit event of one decided message.
    public func event(
        _ decision: MessageDecision, call: Call, credential: Credential, token: VerifiedToken?,
        snapshot: PolicySnapshot
    ) -> AuditEvent {
        let policy = snapshot.policy
        var grant = policy.grant([])
        if case .granted(let g, _, _) = credential { grant = g }
        var event: AuditEvent
        if let core = decision.decision {
            let record = policy.record(
                for: core, call: call, grant: grant, style: .grantedPlusMissing, policyVersion: snapshot.version)
            event = AuditEvent(
                decision: core, record: record, call: call, grant: grant, policy: policy,
                policyVersion: snapshot.version, time: now(), clientID: token?.clientID, subject: token?.subject,
                tokenID: token?.jwtID)
        } else {
            // Decided without the core (a refused token, an argument header missing): arguments redacted as the
            // core's builder does, so no value the policy does not list is ever logged.
            let logged = Set(policy.model.audit.arguments)
            var arguments: [String: JSONValue] = [:]
            for (k, v) in call.arguments { arguments[k] = logged.contains(k) ? v : .string("[redacted]") }
            event = AuditEvent(
                time: now(), clientID: token?.clientID, subject: token?.subject, tokenID: token?.jwtID,
                method: call.method, tool: call.name.isEmpty ? nil : call.name, action: nil, arguments: arguments,
                granted: grant.granted, allowed: decision.allowed, reason: decision.reason, required: decision.required,
                missing: decision.missing, rule: decision.rule, policyVersion: snapshot.version)
        }
        event.wouldDeny = decision.shadowed
        return event
    }
}
