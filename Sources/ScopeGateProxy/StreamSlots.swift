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
    /// `scopegate_limit_refusals_total`).
    public func acquire(principal: String) -> Result<StreamSlot, Refusal> {
        let outcome = state.withLock { state -> Result<Int, Refusal> in
            guard state.total < capacity else { return .failure(.global(capacity)) }
            let mine = state.byPrincipal[principal] ?? 0
            guard mine < perPrincipal else { return .failure(.principal(perPrincipal)) }
            state.total += 1
            state.byPrincipal[principal] = mine + 1
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

    func release(principal: String) {
        let total = state.withLock { state -> Int in
            state.total -= 1
            let mine = (state.byPrincipal[principal] ?? 1) - 1
            state.byPrincipal[principal] = mine > 0 ? mine : nil
            return state.total
        }
        metrics.streamsOpen(total)
    }
}

/// One slot of ``StreamSlots``: ``release()`` gives it back (once; later calls do nothing), and so does dropping
/// the last reference, so that a response never run or a task that ended early cannot leak it.
///
/// ```swift
/// guard case .success(let slot) = streams.acquire(principal: principal) else { return refusal }
/// defer { slot.release() }                        // or hand it to the response body that streams
/// ```
public final class StreamSlot: Sendable {
    let slots: StreamSlots
    let principal: String
    let released = LockedValue(false)

    init(slots: StreamSlots, principal: String) {
        self.slots = slots
        self.principal = principal
    }

    /// Gives the slot back; idempotent.
    public func release() {
        let first = released.withLock { released -> Bool in
            defer { released = true }
            return !released
        }
        if first { slots.release(principal: principal) }
    }

    deinit { release() }
}
