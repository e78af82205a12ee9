import Foundation
import Metrics
import Prometheus
import ScopeGate

/// The Prometheus backend of ``ScopeGateMetrics`` (swift-prometheus) and its text exposition, served at
/// `/metrics` by the gateways.
///
/// swift-metrics can be bootstrapped once per process; ``bootstrap()`` does it at most once and returns the
/// same registry on every call. Tests and embedders that must not touch the global backend use ``init()`` (a
/// registry of their own) and record through ``metrics``.
///
/// ```swift
/// let prometheus = PrometheusMetrics.bootstrap()
/// let metrics = ScopeGateMetrics()                 // the process-wide backend: records into `prometheus`
/// let body = prometheus.exposition()               // the body of GET /metrics
/// ```
public struct PrometheusMetrics: Sendable {
    /// The content type of the text exposition format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Histogram buckets of the latency timers: a policy decision takes microseconds, a proxied request up to
    /// seconds; swift-prometheus' defaults start at 5 ms.
    public static let buckets: [String: [Duration]] = [
        "scopegate_decision_duration_seconds": [
            .microseconds(1), .microseconds(2), .microseconds(5), .microseconds(10), .microseconds(25),
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(1000), .milliseconds(10),
        ],
        "scopegate_request_duration_seconds": [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100), .milliseconds(500),
            .seconds(1), .seconds(5), .seconds(30),
        ],
    ]

    /// The registry the instruments record into.
    public let registry: PrometheusCollectorRegistry

    /// A registry of its own, not bootstrapped: record into it through ``metrics``.
    public init() { registry = PrometheusCollectorRegistry() }

    /// A swift-metrics factory recording into ``registry``, with ScopeGate's histogram buckets.
    public var factory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = Self.buckets
        return factory
    }

    /// ScopeGate's instruments recording into ``registry`` (whatever the process-wide backend is).
    public var metrics: ScopeGateMetrics { ScopeGateMetrics(factory: factory) }

    private static let shared = LockedValue<PrometheusMetrics?>(nil)

    /// Bootstraps swift-metrics with a Prometheus factory, once per process, and returns it (the same registry
    /// on every call).
    @discardableResult
    public static func bootstrap() -> PrometheusMetrics {
        shared.withLock { shared in
            if let shared { return shared }
            let created = PrometheusMetrics()
            MetricsSystem.bootstrap(created.factory)
            shared = created
            return created
        }
    }

    /// The text exposition (the body of `GET /metrics`).
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
