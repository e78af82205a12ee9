// The mixed decision workload: every iteration takes another (call, resolved grant) pair, drawn at random from a
// pool of tens of thousands, instead of deciding one hot sample over and over.
import Foundation
import ScopeGate
import ScopeGateTesting

/// A pool of calls on the synthetic policy (``Fixture``), each with its grant resolved outside every measurement,
/// and a precomputed random visiting order, so the timed loop costs one array read per iteration beyond the
/// decision itself.
///
/// ```swift
/// let pool = MixedWorkload.denials
/// var cursor = 0
/// for _ in 0..<1_000 {
///     let i = pool.next(&cursor)
///     blackHole(Fixture.policy.decide(pool.calls[i], grant: pool.grants[i]))
/// }
/// ```
public struct MixedWorkload: Sendable {
    /// The pool's calls, in sample order.
    public let calls: [Call]
    /// The grant of each call, resolved against ``Fixture/policy``. Calls and grants are read in place through an
    /// index (not copied out as a pair), so an iteration pays no reference counting of its own.
    public let grants: [Grant]
    /// Indices into ``calls`` and ``grants`` in a seeded random order; its length is a power of two, so the next
    /// position is a mask away.
    public let order: [Int32]

    /// Samples drawn for each pool: 24,000 cycle through the four sample kinds with every other sample of a kind
    /// built to be denied, so each of ``allows`` and ``denials`` holds 12,000 calls (≥ 10,000 by design).
    public static let sampleCount = 24_000
    /// Length of ``order`` (a power of two above every pool size).
    public static let orderLength = 1 << 16

    /// All samples, allows and denials mixed: the `isAllowed` row.
    public static let mixed = MixedWorkload(Fixture.policy, samples: pool)
    /// The samples built to be allowed: the `decide` allow row.
    public static let allows = MixedWorkload(Fixture.policy, samples: pool.filter(\.expectAllowed))
    /// The samples built to be denied: the `decide` deny row. Every one is denied with a non-empty `missing`
    /// (checked by ``misfits(allowed:policy:)`` in each row before it is timed).
    public static let denials = MixedWorkload(Fixture.policy, samples: pool.filter { !$0.expectAllowed })

    /// How many calls of ``denials`` run the completion search (``completionSearches(policy:)``).
    public static let denialSearches = denials.completionSearches(policy: Fixture.policy)

    static let pool = SyntheticPolicy.sampleCalls(
        tools: Fixture.toolCount, scopes: Fixture.scopeCount, seed: Fixture.seed, count: sampleCount)

    public init(_ policy: CompiledPolicy, samples: [SyntheticPolicy.Sample]) {
        calls = samples.map(\.call)
        grants = samples.map { policy.grant($0.granted) }
        var generator = XorShift(seed: Fixture.seed)
        let count = max(calls.count, 1)
        order = (0..<Self.orderLength).map { _ in Int32(truncatingIfNeeded: generator.next() % UInt64(count)) }
    }

    /// The index at `cursor` in the random order, advancing the cursor.
    @inline(__always)
    public func next(_ cursor: inout Int) -> Int {
        let index = Int(order[cursor & (Self.orderLength - 1)])
        cursor &+= 1
        return index
    }

    /// What every decision of the pool reads of its own call and grant, and nothing of the policy: the call's
    /// argument count (its dictionary's storage) and one word of the grant's closure, a different scope at each
    /// `position`. The floor row times this, so it pays the same harness costs as a decision (the call and grant
    /// are passed the same way, across a module).
    @inline(never)
    public static func touch(_ call: Call, grant: Grant, position: Int) -> Int {
        let scope = ScopeID(truncatingIfNeeded: position) &* 2_654_435_761 % UInt32(Fixture.scopeCount)
        return call.arguments.count &+ (grant.closure.contains(scope) ? 1 : 0)
    }

    /// How many entries `decide` does not answer as the pool promises: an allow for ``allows``, a denial with a
    /// non-empty `missing` for ``denials``. A row reports an error unless this is 0.
    public func misfits(allowed: Bool, policy: CompiledPolicy) -> Int {
        calls.indices.count { i in
            let decision = policy.decide(calls[i], grant: grants[i])
            return allowed ? !decision.allowed : decision.allowed || decision.missing.isEmpty
        }
    }

    /// How many entries of a denial pool make `decide` run the cheapest-completion search rather than its forced
    /// shortcut. The shortcut applies when every unsatisfied requirement part (the rule's requirement, the
    /// action's, and those of the `when` entries whose conditions match) has a single clause: the completion is
    /// then that clause's missing scopes. Computed here from the policy model, outside every measurement.
    public func completionSearches(policy: CompiledPolicy) -> Int {
        calls.indices.count { i in
            guard let index = policy.toolRuleIndex(for: calls[i].name) else { return false }
            let rule = policy.model.tools[index]
            let arguments = calls[i].arguments
            var notes: [String] = []
            var parts: [Requirement] = []
            if let requirement = rule.requirement { parts.append(requirement) }
            var action: ActionRule?
            if let name = rule.actionArgument, case .string(let value)? = arguments[name] {
                action = rule.actions?.first { $0.name == value }
            }
            if let requirement = action?.requirement { parts.append(requirement) }
            for w in rule.when + (action?.when ?? []) where w.matches(arguments, notes: &notes) {
                parts.append(w.requirement)
            }
            let closure = grants[i].closure
            let unsatisfied = parts.filter { part in
                !part.clauses.contains { clause in
                    clause.allSatisfy { name in policy.scopes.id(name).map(closure.contains) ?? false }
                }
            }
            return unsatisfied.contains { $0.clauses.count > 1 }
        }
    }
}

/// xorshift64* (Vigna 2016): the visiting order's generator, seeded, so every run and the instruction counter visit
/// the same sequence.
struct XorShift {
    var state: UInt64

    init(seed: UInt64) { state = seed | 1 }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// CPU time of the calling thread in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`): unlike wall time it excludes time
/// spent waiting for a core, which dominates samples of a millisecond or more on a loaded machine.
public func threadCPUNanoseconds() -> Int {
    var now = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
    return now.tv_sec * 1_000_000_000 + now.tv_nsec
}
