import Metrics
import ScopeGate

/// The swift-metrics handles of the instruments recorded on every request, made once per label and dimension
/// values and reused. Making a handle asks the factory, which for Prometheus is a registry lookup under its lock
/// and a validation of the name and labels: made per request, that was a few percent of `scopegate authz`'s CPU.
/// Label values come from fixed sets (see ``ScopeGateMetrics``), so the table stays small.
final class MetricHandles: Sendable {
    /// A label and up to two dimension values (the dimension names are fixed per label).
    struct Key: Hashable {
        var label: String
        var first: String = ""
        var second: String = ""
    }

    private let counters = LockedValue<[Key: Counter]>([:])
    private let timers = LockedValue<[Key: Metrics.Timer]>([:])

    /// The counter of `key`, made with `make` the first time.
    func counter(_ key: Key, make: () -> Counter) -> Counter { Self.handle(counters, key, make) }

    /// The timer of `key`, made with `make` the first time.
    func timer(_ key: Key, make: () -> Metrics.Timer) -> Metrics.Timer { Self.handle(timers, key, make) }

    /// The handle of `key` in `table`, made outside the lock the first time (the factory takes locks of its own).
    private static func handle<Handle>(_ table: LockedValue<[Key: Handle]>, _ key: Key, _ make: () -> Handle)
        -> Handle
    {
        if let known = table.withLock({ $0[key] }) { return known }
        let made = make()
        return table.withLock { handles in
            if let known = handles[key] { return known }
            handles[key] = made
            return made
        }
    }
}
