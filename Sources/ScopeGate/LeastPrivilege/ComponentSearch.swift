/// Exact branch and bound over one independent component of a least-privilege question, on a dense local
/// numbering of the component's scopes (only the scopes its clauses can still add), so closures are a few words
/// instead of one bit per policy scope. See docs/least-privilege.md, "Why the search is exact".
///
/// Each clause is stored as its *residual closure* (the closure of its scopes minus what every answer already
/// pays for). A part is satisfied exactly when one of its clauses adds nothing (weights are positive), so the
/// marginal cost of a clause is both the satisfaction test and the branching key.
final class ComponentSearch {
    let words: Int
    let partCount: Int
    /// Part `p`'s clauses are `partStart[p] ..< partStart[p + 1]`.
    let partStart: [Int]
    let weights: UnsafeMutablePointer<Int>
    let bits: UnsafeMutablePointer<UInt64>
    /// Closure per search depth, `words` each; reused across branches (no copy per candidate).
    let stack: UnsafeMutablePointer<UInt64>
    let scratch: UnsafeMutablePointer<UInt64>
    let used: UnsafeMutablePointer<UInt64>
    /// Per local scope: how many unsatisfied parts could still add it (for the shared-cost bound).
    let share: UnsafeMutablePointer<Int32>
    let scopeCount: Int

    /// Search effort allowed: each node costs the component's number of parts (what a node evaluates), so a
    /// budget bounds time whatever the component's size. The root node always runs (it computes the root bound).
    let budget: Int
    private(set) var nodes = 0
    private(set) var exhausted = false
    private(set) var best = Int.max
    /// Distinct closures of cost `best` (every one when the search finished), at most `tieCap`.
    private(set) var ties: [[UInt64]] = []
    private(set) var rootBound = 0
    let tieCap = 4_096

    /// `clauses[p]` lists part `p`'s clauses as local scope indices of their residual closures.
    init(weights: [Int], clauses: [[[Int]]], budget: Int) {
        scopeCount = weights.count
        words = max(1, (weights.count + 63) / 64)
        partCount = clauses.count
        var start = [0]
        for part in clauses { start.append(start[start.count - 1] + part.count) }
        partStart = start
        let clauseCount = start[start.count - 1]
        self.weights = .allocate(capacity: max(1, weights.count))
        for (i, w) in weights.enumerated() { self.weights[i] = w }
        bits = .allocate(capacity: max(1, clauseCount * words))
        bits.initialize(repeating: 0, count: max(1, clauseCount * words))
        var c = 0
        for part in clauses {
            for clause in part {
                for s in clause { bits[c * words + s >> 6] |= 1 << UInt64(s & 63) }
                c += 1
            }
        }
        stack = .allocate(capacity: (partCount + 2) * words)
        stack.initialize(repeating: 0, count: (partCount + 2) * words)
        scratch = .allocate(capacity: words)
        used = .allocate(capacity: words)
        share = .allocate(capacity: max(1, weights.count))
        share.initialize(repeating: 0, count: max(1, weights.count))
        self.budget = budget
    }

    deinit {
        weights.deallocate()
        bits.deallocate()
        stack.deallocate()
        scratch.deallocate()
        used.deallocate()
        share.deallocate()
    }

    /// Weight of clause `c`'s scopes missing from `closure`; 0 exactly when the clause is satisfied.
    @inline(__always)
    func marginal(_ c: Int, _ closure: UnsafeMutablePointer<UInt64>) -> Int {
        var total = 0
        let clause = bits + c * words
        for w in 0..<words {
            var b = clause[w] & ~closure[w]
            while b != 0 {
                total &+= weights[w &* 64 &+ b.trailingZeroBitCount]
                b &= b &- 1
            }
        }
        return total
    }

    func weight(_ closure: UnsafeMutablePointer<UInt64>) -> Int {
        var total = 0
        for w in 0..<words {
            var b = closure[w]
            while b != 0 {
                total &+= weights[w &* 64 &+ b.trailingZeroBitCount]
                b &= b &- 1
            }
        }
        return total
    }

    /// Runs the search: a greedy answer first (an upper bound, so pruning starts at once), then branch and bound.
    func run() {
        let closure = stack
        greedy(into: stack + (partCount + 1) * words)
        best = weight(stack + (partCount + 1) * words)
        ties = [Array(UnsafeBufferPointer(start: stack + (partCount + 1) * words, count: words))]
        for w in 0..<words { closure[w] = 0 }
        search(depth: 0, cost: 0)
    }

    /// Greedy: repeatedly satisfy the unsatisfied part whose cheapest clause costs most, with that clause.
    func greedy(into closure: UnsafeMutablePointer<UInt64>) {
        for w in 0..<words { closure[w] = 0 }
        while true {
            var pick = -1
            var pickCost = -1
            for p in 0..<partCount {
                var m = Int.max
                var arg = -1
                for c in partStart[p]..<partStart[p + 1] {
                    let mg = marginal(c, closure)
                    if mg < m {
                        m = mg
                        arg = c
                    }
                    if mg == 0 { break }
                }
                if m > 0, m > pickCost {
                    pickCost = m
                    pick = arg
                }
            }
            if pick < 0 { return }
            for w in 0..<words { closure[w] |= bits[pick * words + w] }
        }
    }

    func search(depth: Int, cost: Int) {
        nodes += partCount
        if depth > 0, nodes > budget {
            exhausted = true
            return
        }
        let closure = stack + depth * words
        var unsatisfied: [Int] = []
        var minimum: [Int] = []
        for p in 0..<partCount {
            var m = Int.max
            for c in partStart[p]..<partStart[p + 1] {
                let mg = marginal(c, closure)
                if mg < m { m = mg }
                if mg == 0 { break }
            }
            if m > 0 {
                unsatisfied.append(p)
                minimum.append(m)
            }
        }
        if unsatisfied.isEmpty {
            record(closure, cost)
            return
        }
        let bound = lowerBound(unsatisfied, minimum, closure)
        if depth == 0 { rootBound = bound }
        if cost + bound > best { return }
        // Branch on the part whose cheapest clause costs most (it decides the most), fewer clauses first on ties.
        var j = 0
        for k in 1..<unsatisfied.count {
            let a = unsatisfied[k]
            let b = unsatisfied[j]
            if minimum[k] > minimum[j]
                || (minimum[k] == minimum[j] && partStart[a + 1] - partStart[a] < partStart[b + 1] - partStart[b])
            {
                j = k
            }
        }
        let part = unsatisfied[j]
        var candidates: [(marginal: Int, clause: Int)] = []
        for c in partStart[part]..<partStart[part + 1] {
            // A clause adding a superset of what another clause of the part adds is never better, and at equal
            // cost it leads to the same closure (ties are closures, so none is lost).
            var dominated = false
            for d in partStart[part]..<partStart[part + 1] where d != c && adds(d, within: c, closure) {
                if !adds(c, within: d, closure) || d < c {
                    dominated = true
                    break
                }
            }
            if !dominated { candidates.append((marginal(c, closure), c)) }
        }
        candidates.sort { $0.marginal != $1.marginal ? $0.marginal < $1.marginal : $0.clause < $1.clause }
        let next = closure + words
        for (mg, c) in candidates {
            if exhausted { return }
            if cost + mg > best { break }
            let clause = bits + c * words
            for w in 0..<words { next[w] = closure[w] | clause[w] }
            search(depth: depth + 1, cost: cost + mg)
        }
    }

    /// Whether what clause `a` adds to `closure` is within clause `b`.
    @inline(__always)
    func adds(_ a: Int, within b: Int, _ closure: UnsafeMutablePointer<UInt64>) -> Bool {
        let x = bits + a * words
        let y = bits + b * words
        for w in 0..<words where x[w] & ~closure[w] & ~y[w] != 0 { return false }
        return true
    }

    /// An admissible bound on what the unsatisfied parts still cost: the larger of
    /// - a packing bound: the sum of the cheapest marginals over parts whose addable scopes are pairwise
    ///   disjoint (no scope can serve two of them, so their costs add), taken greedily by decreasing marginal;
    /// - a shared-cost bound: each scope's weight split evenly over the unsatisfied parts that could add it,
    ///   each part charged its cheapest clause at those shares (every scope paid for is counted at most once).
    func lowerBound(_ unsatisfied: [Int], _ minimum: [Int], _ closure: UnsafeMutablePointer<UInt64>) -> Int {
        if unsatisfied.count == 1 { return minimum[0] }
        let order = unsatisfied.indices.sorted { minimum[$0] != minimum[$1] ? minimum[$0] > minimum[$1] : $0 < $1 }
        for w in 0..<words { used[w] = 0 }
        var packing = 0
        for k in order {
            let p = unsatisfied[k]
            for w in 0..<words { scratch[w] = 0 }
            for c in partStart[p]..<partStart[p + 1] {
                for w in 0..<words { scratch[w] |= bits[c * words + w] & ~closure[w] }
            }
            var disjoint = true
            for w in 0..<words where scratch[w] & used[w] != 0 {
                disjoint = false
                break
            }
            // Shares: count this part once for every scope it could add.
            for w in 0..<words {
                var b = scratch[w]
                while b != 0 {
                    share[w &* 64 &+ b.trailingZeroBitCount] &+= 1
                    b &= b &- 1
                }
            }
            if disjoint {
                packing += minimum[k]
                for w in 0..<words { used[w] |= scratch[w] }
            }
        }
        var shared = 0.0
        for p in unsatisfied {
            var m = Double.infinity
            for c in partStart[p]..<partStart[p + 1] {
                var total = 0.0
                for w in 0..<words {
                    var b = bits[c * words + w] & ~closure[w]
                    while b != 0 {
                        let s = w &* 64 &+ b.trailingZeroBitCount
                        total += Double(weights[s]) / Double(share[s])
                        b &= b &- 1
                    }
                }
                m = min(m, total)
            }
            shared += m
        }
        for p in unsatisfied {
            for c in partStart[p]..<partStart[p + 1] {
                for w in 0..<words {
                    var b = bits[c * words + w]
                    while b != 0 {
                        share[w &* 64 &+ b.trailingZeroBitCount] = 0
                        b &= b &- 1
                    }
                }
            }
        }
        // Costs are integers, so the fractional bound rounds up (less a hair for floating-point error).
        return max(packing, Int((shared - 1e-7).rounded(.up)))
    }

    func record(_ closure: UnsafeMutablePointer<UInt64>, _ cost: Int) {
        let value = Array(UnsafeBufferPointer(start: closure, count: words))
        if cost < best {
            best = cost
            ties = [value]
        } else if cost == best, ties.count < tieCap, !ties.contains(value) {
            ties.append(value)
        }
    }
}
