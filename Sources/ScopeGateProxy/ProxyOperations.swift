import AsyncHTTPClient
import Foundation
import Hummingbird
import ScopeGate
import ScopeGateOperations
import ScopeGateTokens

/// What an ``MCPProxy`` reports and serves beside the proxying itself: audit events and decision metrics
/// (``DecisionReporter``), the request-latency and upstream-error metrics, and the operations endpoints
/// (`/healthz`, `/readyz` with the conditions `policy` and `upstream`, `/metrics`).
///
/// ```swift
/// let operations = ProxyOperations(
///     reporter: DecisionReporter(audit: try AuditLog.open("-"), metrics: ScopeGateMetrics()),
///     prometheus: PrometheusMetrics.bootstrap(), verifiedToken: tokens.verifiedToken)
/// let proxy = MCPProxy(store: store, configuration: configuration, authenticate: tokens.credential,
///                      operations: operations)
/// ```
public struct ProxyOperations: Sendable {
    public let reporter: DecisionReporter
    public let endpoints: OperationsEndpoints
    /// The verified token of an `Authorization` header, for the principal in audit events (nil: unknown).
    let verifiedToken: @Sendable (_ authorization: String?) -> VerifiedToken?

    public var metrics: ScopeGateMetrics { reporter.metrics }
    public var readiness: Readiness { endpoints.readiness }

    /// - Parameters:
    ///   - prometheus: what `/metrics` exposes; nil: no `/metrics`.
    ///   - verifiedToken: looks up the verified token of an `Authorization` header (``TokenAuthenticator``).
    public init(
        reporter: DecisionReporter = DecisionReporter(audit: nil, metrics: ScopeGateMetrics()),
        prometheus: PrometheusMetrics? = nil,
        verifiedToken: @escaping @Sendable (_ authorization: String?) -> VerifiedToken? = { _ in nil }
    ) {
        self.reporter = reporter
        let readiness = Readiness(conditions: ["policy", "upstream"])
        readiness.set("policy")  // the proxy is built over a store, which always holds a compiled policy
        self.endpoints = OperationsEndpoints(readiness: readiness, prometheus: prometheus)
        self.verifiedToken = verifiedToken
    }

    /// The answer of an operations endpoint for `path`, or nil.
    func respond(path: String) -> ProxyAnswer? {
        guard let answer = endpoints.respond(path: path) else { return nil }
        return ProxyAnswer(
            status: answer.status, fields: ["Content-Type": answer.contentType],
            body: .whole(ByteBuffer(bytes: answer.body)))
    }
}
