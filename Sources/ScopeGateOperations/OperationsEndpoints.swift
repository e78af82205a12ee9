import Foundation
import ScopeGate

/// Whether a service may take traffic: ready while every named condition is met. A gateway requires
/// `policy` (a compiled policy is in force; a rejected reload keeps the last good one, so it stays met) and,
/// for the proxy, `upstream` (the upstream answered at least once: a probe at start-up or any forwarded
/// request).
///
/// ```swift
/// let readiness = Readiness(conditions: ["policy", "upstream"])
/// readiness.set("policy")
/// readiness.isReady      // false until readiness.set("upstream")
/// ```
public final class Readiness: Sendable {
    private let state: LockedValue<[(name: String, met: Bool)]>

    public init(conditions: [String]) {
        state = LockedValue(conditions.map { ($0, false) })
    }

    /// Marks `condition` met (or not).
    public func set(_ condition: String, _ met: Bool = true) {
        state.withLock { conditions in
            for i in conditions.indices where conditions[i].name == condition { conditions[i].met = met }
        }
    }

    /// Whether `condition` is met.
    public func isMet(_ condition: String) -> Bool {
        state.withLock { $0.contains { $0.name == condition && $0.met } }
    }

    /// The conditions not met yet, in order.
    public var unmet: [String] { state.withLock { $0.filter { !$0.met }.map(\.name) } }

    public var isReady: Bool { unmet.isEmpty }
}

/// The operations endpoints every gateway serves beside its own: `GET /healthz` (liveness: 200 while the
/// process answers), `GET /readyz` (200 `ready`, else 503 naming the unmet conditions) and `GET /metrics` (the
/// Prometheus text exposition, when a registry is given). Independent of the HTTP server: the server maps
/// ``respond(path:)`` to its response type.
///
/// ```swift
/// let endpoints = OperationsEndpoints(readiness: readiness, prometheus: PrometheusMetrics.bootstrap())
/// if let answer = endpoints.respond(path: request.uri.path) {
///     return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType], body: …)
/// }
/// ```
public struct OperationsEndpoints: Sendable {
    /// An answer: status, content type and body.
    public struct Answer: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
    }

    public let readiness: Readiness
    /// What `/metrics` exposes; nil: no `/metrics`.
    public let prometheus: PrometheusMetrics?

    public init(readiness: Readiness, prometheus: PrometheusMetrics?) {
        self.readiness = readiness
        self.prometheus = prometheus
    }

    /// The paths answered.
    public static let paths: Set<String> = ["/healthz", "/readyz", "/metrics"]

    /// The answer for `path`, or nil when it is not an operations endpoint (or `/metrics` without a registry).
    public func respond(path: String) -> Answer? {
        let text = "text/plain; charset=utf-8"
        switch path {
        case "/healthz": return Answer(status: 200, contentType: text, body: Array("ok\n".utf8))
        case "/readyz":
            let unmet = readiness.unmet
            if unmet.isEmpty { return Answer(status: 200, contentType: text, body: Array("ready\n".utf8)) }
            return Answer(
                status: 503, contentType: text, body: Array("not ready: \(unmet.joined(separator: ", "))\n".utf8))
        case "/metrics":
            guard let prometheus else { return nil }
            return Answer(status: 200, contentType: PrometheusMetrics.contentType, body: prometheus.exposition())
        default: return nil
        }
    }
}
