import Atomics
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

    /// The handles an allowed request records, each read with one atomic load instead of hashing its key and
    /// taking the lock: `scopegate_decisions_total{outcome="allow",reason="allowed"}`, the decision histogram,
    /// `scopegate_request_duration_seconds{status="200"}`, `scopegate_token_verifications_total{cache="hit",
    /// result="ok"}` and `scopegate_streams_open` (a forwarded request takes a stream slot and gives it back).
    /// Made on first use, as the others, so a series appears only once it is recorded.
    let allowed = ManagedAtomicLazyReference<Counter>()
    let decisionDuration = ManagedAtomicLazyReference<Metrics.Timer>()
    let answered200 = ManagedAtomicLazyReference<Metrics.Timer>()
    let tokenCacheHit = ManagedAtomicLazyReference<Counter>()
    let streamsOpen = ManagedAtomicLazyReference<Gauge>()

    /// The handle in `slot`, made with `make` the first time (two racing callers may both make one; the factory
    /// gives both the same series, and the first stored is kept).
    static func hot<Handle: AnyObject>(_ slot: ManagedAtomicLazyReference<Handle>, _ make: () -> Handle) -> Handle {
        slot.load() ?? slot.storeIfNilThenLoad(make())
    }

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
