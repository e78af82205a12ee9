import ScopeGateOperations
import Testing

@testable import ScopeGateProxy

/// The stream slots' counts, global and per principal, as slots are taken and given back in every way.
struct StreamSlotsTests {
    @Test func capsAreKeptAndEveryWayOfGivingBackCountsOnce() throws {
        let slots = StreamSlots(capacity: 3, perPrincipal: 2, metrics: ScopeGateMetrics())
        let a1 = try slots.acquire(principal: "a").get()
        let a2 = try slots.acquire(principal: "a").get()
        #expect(slots.acquire(principal: "a").failureReason == "stream.principal_limit")
        var b1: StreamSlot? = try slots.acquire(principal: "b").get()
        #expect(slots.acquire(principal: "c").failureReason == "stream.limit")
        #expect(slots.held() == 3 && slots.held(by: "a") == 2 && slots.held(by: "b") == 1)
        a1.release()
        a1.release()  // idempotent
        #expect(slots.held() == 2 && slots.held(by: "a") == 1)
        b1 = nil  // dropped without release: given back by its deinit
        #expect(b1 == nil && slots.held() == 1 && slots.held(by: "b") == 0)
        a2.release()
        #expect(slots.held() == 0 && slots.held(by: "a") == 0)
        #expect(slots.state.withLock { $0.byPrincipal.isEmpty })  // no count of zero is kept
    }

    @Test func aCapOfZeroRefusesEveryPrincipalAndRemembersNone() {
        let slots = StreamSlots(capacity: 4, perPrincipal: 0, metrics: ScopeGateMetrics())
        for principal in ["a", "b", "c"] {
            #expect(slots.acquire(principal: principal).failureReason == "stream.principal_limit")
        }
        #expect(slots.held() == 0)
        #expect(slots.state.withLock { $0.byPrincipal.isEmpty })
    }
}

extension Result where Failure == StreamSlots.Refusal {
    fileprivate var failureReason: String? {
        if case .failure(let refusal) = self { refusal.reason } else { nil }
    }
}
