import Foundation
import ScopeGate
import ScopeGateOperations
import ScopeGateRequestAuthorization

/// The streams an ``MCPProxy`` holds open at once, bounded globally and per principal, so that one token cannot
/// take them all. A request that may answer with a stream takes a ``StreamSlot`` before it is forwarded (see
/// ``MCPProxy``); the slot is given back when the answer's head shows no stream, or when the stream ends however
/// it ends (completion, client gone, upstream gone, shutdown), and at the latest when the response is dropped.
///
/// ```swift
/// let slots = StreamSlots(capacity: 1024, perPrincipal: 64, metrics: metrics)
/// switch slots.acquire(principal: "issuer|subject|client") {
/// case .success(let slot): defer { slot.release() }   // … stream …
/// case .failure(let refusal): print(refusal.reason)   // stream.limit or stream.principal_limit
/// }
/// ```
public final class StreamSlots: Sendable {
    /// Why a slot was refused: the global cap (503) or the principal's (429).
    public struct Refusal: Error, Sendable, Hashable {
        /// The stable reason: `stream.limit` or `stream.principal_limit`.
        public let reason: String
        /// The HTTP status of the refusal.
        public let httpStatus: Int
        /// Lowercase, no final period.
        public let message: String

        /// Every stream slot of the proxy is taken: the server is at capacity, for everyone (503).
        static func global(_ capacity: Int) -> Refusal {
            Refusal(reason: "stream.limit", httpStatus: 503, message: "the proxy holds its most streams (\(capacity))")
        }

        /// This principal holds its share of streams: only its own requests are refused (429).
        static func principal(_ cap: Int) -> Refusal {
            Refusal(
                reason: "stream.principal_limit", httpStatus: 429,
                message: "this principal holds its most streams (\(cap))")
        }
    }

    struct State {
        var total = 0
        var byPrincipal: [String: Int] = [:]
    }

    /// The most slots held at once.
    public let capacity: Int
    /// The most slots one principal holds at once.
    public let perPrincipal: Int
    let state = LockedValue(State())
    let metrics: ScopeGateMetrics

    public init(capacity: Int, perPrincipal: Int, metrics: ScopeGateMetrics) {
        self.capacity = capacity
        self.perPrincipal = perPrincipal
        self.metrics = metrics
    }

    /// The slots held now, in all and by `principal`.
    public func held(by principal: String? = nil) -> Int {
        state.withLock { state in principal.map { state.byPrincipal[$0] ?? 0 } ?? state.total }
    }

    /// A slot for `principal`, or the refusal when a cap is reached (counted in
    /// `scopegate_limit_refusals_total`). Every forwarded request that may be answered with a stream takes one
    /// (most clients accept one on every `POST`), so the principal is hashed once, for the check and the count.
    public func acquire(principal: String) -> Result<StreamSlot, Refusal> {
        let outcome = state.withLock { state -> Result<Int, Refusal> in
            guard state.total < capacity else { return .failure(.global(capacity)) }
            // A cap of zero refuses before the lookup, which would otherwise leave a zero count behind.
            guard perPrincipal > 0 else { return .failure(.principal(perPrincipal)) }
            let taken = Self.take(&state.byPrincipal[principal, default: 0], under: perPrincipal)
            guard taken else { return .failure(.principal(perPrincipal)) }
            state.total += 1
            return .success(state.total)
        }
        switch outcome {
        case .success(let total):
            metrics.streamsOpen(total)
            return .success(StreamSlot(slots: self, principal: principal))
        case .failure(let refusal):
            metrics.limitRefused(reason: refusal.reason)
            return .failure(refusal)
        }
    }

    /// Counts one more slot in `held` unless it is at `cap`.
    private static func take(_ held: inout Int, under cap: Int) -> Bool {
        guard held < cap else { return false }
        held += 1
        return true
    }

    /// Gives `slot` back unless it was already given back.
    func release(_ slot: StreamSlot) {
        let total = state.withLock { state -> Int? in
            guard !slot.released else { return nil }
            slot.released = true
            state.total -= 1
            if let index = state.byPrincipal.index(forKey: slot.principal) {
                let mine = state.byPrincipal.values[index] - 1
                if mine > 0 { state.byPrincipal.values[index] = mine } else { state.byPrincipal.remove(at: index) }
            }
            return state.total
        }
        if let total { metrics.streamsOpen(total) }
    }
}

/// One slot of ``StreamSlots``: ``release()`` gives it back (once; later calls do nothing), and so does dropping
/// the last reference, so that a response never run or a task that ended early cannot leak it.
///
/// ```swift
/// guard case .success(let slot) = streams.acquire(principal: principal) else { return refusal }
/// defer { slot.release() }                        // or hand it to the response body that streams
/// ```
public final class StreamSlot: @unchecked Sendable {
    let slots: StreamSlots
    let principal: String
    /// Whether the slot was given back; read and written only under the lock of `slots` (one lock for the flag
    /// and the counts), or in `deinit`, when nothing else can reach the slot.
    var released = false

    init(slots: StreamSlots, principal: String) {
        self.slots = slots
        self.principal = principal
    }

    /// Gives the slot back; idempotent.
    public func release() { slots.release(self) }

    deinit { if !released { slots.release(self) } }
}
