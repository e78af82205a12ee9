import Foundation
import ScopeGate

/// Binds 2025-xx protocol sessions (`Mcp-Session-Id`) to the principal whose `initialize` created them, so a
/// session id that leaks cannot be used with another token (session hijack). A request naming a session that
/// is bound to another principal, or that the table does not know, is refused and never forwarded.
///
/// Bounded: at most `capacity` sessions; one idle longer than `idleTimeout` (measured with the injected clock)
/// is forgotten; when full, the least recently used is forgotten. A forgotten session is answered like an
/// unknown one (404), and the client starts a new one, as the specification asks of clients.
///
/// ```swift
/// let sessions = SessionTable(capacity: 10_000, idleTimeout: 3600, now: { Date() })
/// sessions.bind("4f1c…", to: "https://auth.example.com\u{0}alice")
/// sessions.use("4f1c…", by: "https://auth.example.com\u{0}mallory")   // false
/// ```
public final class SessionTable: Sendable {
    struct Entry {
        let principal: String
        var lastUsed: Date
    }

    public let capacity: Int
    public let idleTimeout: TimeInterval
    let now: @Sendable () -> Date
    let entries = LockedValue<[String: Entry]>([:])

    public init(capacity: Int = 10_000, idleTimeout: TimeInterval = 3600, now: @escaping @Sendable () -> Date) {
        self.capacity = max(1, capacity)
        self.idleTimeout = idleTimeout
        self.now = now
    }

    /// Binds `id` to `principal`. An id already bound keeps its first principal (returns false unless it is the
    /// same one).
    @discardableResult
    public func bind(_ id: String, to principal: String) -> Bool {
        let time = now()
        return entries.withLock { entries in
            if let existing = entries[id], time.timeIntervalSince(existing.lastUsed) <= idleTimeout {
                guard existing.principal == principal else { return false }
                entries[id]?.lastUsed = time
                return true
            }
            if entries.count >= capacity {
                entries = entries.filter { time.timeIntervalSince($0.value.lastUsed) <= idleTimeout }
                if entries.count >= capacity,
                    let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
                {
                    entries[oldest] = nil
                }
            }
            entries[id] = Entry(principal: principal, lastUsed: time)
            return true
        }
    }

    /// Whether `principal` may use session `id` (it is bound to `principal` and not idle past the timeout);
    /// marks it used.
    public func use(_ id: String, by principal: String) -> Bool {
        let time = now()
        return entries.withLock { entries in
            guard let entry = entries[id] else { return false }
            guard time.timeIntervalSince(entry.lastUsed) <= idleTimeout else {
                entries[id] = nil
                return false
            }
            guard entry.principal == principal else { return false }
            entries[id]?.lastUsed = time
            return true
        }
    }

    /// Ends the binding of `id` if `principal` holds it.
    public func remove(_ id: String, by principal: String) {
        entries.withLock { entries in
            if entries[id]?.principal == principal { entries[id] = nil }
        }
    }

    /// The number of sessions held (idle ones included until they are next looked at).
    public var count: Int { entries.withLock { $0.count } }
}
