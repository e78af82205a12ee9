extension CompiledPolicy {
    /// The cheapest completion over unsatisfied parts: one clause per part, minimizing the privilege added
    /// (weight of the new closure minus the current), then fewest scopes, then lexicographic names.
    /// See ``CompletionSearch``: the work is proportional to the members of the candidate scopes' closures,
    /// never to the size of the policy.
    func cheapestCompletion(_ parts: UnsafeBufferPointer<ClauseRange>, closure: ScopeSet) -> [ScopeID] {
        var search = CompletionSearch(policy: self, parts: parts, closure: closure)
        return search.run()
    }
}

/// The search behind ``CompiledPolicy/cheapestCompletion(_:closure:)``.
///
/// The candidate set is a small stack of scope ids (deduplicated). Its added privilege is the sum of the weights
/// of the members of the candidates' closures that the grant's closure lacks, each counted once — walked over the
/// precomputed member lists (``ScopeTable/members(of:)``), so a denial costs a few dozen bit tests instead of unions of
/// policy-wide bitsets. Names are compared only when privilege and count tie.
struct CompletionSearch {
    let policy: CompiledPolicy
    /// The unsatisfied parts, borrowed from the caller for the search.
    let parts: UnsafeBufferPointer<ClauseRange>
    let closure: ScopeSet
    /// The current candidate: distinct scope ids, in the order they were added.
    var chosen: [ScopeID] = []
    var best: [ScopeID] = []
    var bestCost = Int.max
    var bestCount = Int.max
    var hasBest = false
    /// Node budget for adversarial policies (then the best found so far, at worst the greedy answer, is returned).
    var budget = 100_000

    init(policy: CompiledPolicy, parts: UnsafeBufferPointer<ClauseRange>, closure: ScopeSet) {
        self.policy = policy
        self.parts = parts
        self.closure = closure
        chosen.reserveCapacity(8)
    }

    mutating func run() -> [ScopeID] {
        if parts.isEmpty { return [] }
        // Every part a single clause (the common `scope:` / `all:` rule): the completion is forced, no search.
        if parts.allSatisfy({ $0.upper - $0.lower == 1 }) {
            for part in parts { push(clause: part.lower) }
            sortByName(&chosen)
            return chosen
        }
        // Greedy pass first (one part at a time): a good incumbent for pruning, and the answer if the budget runs out.
        // The candidates are copied into buffers kept for the whole search (`partBest`, `best`): assigning `chosen`
        // would share its storage, and the next change to `chosen` would copy it.
        var partBest: [ScopeID] = []
        partBest.reserveCapacity(8)
        best.reserveCapacity(8)
        for part in parts {
            var partCost = 0
            for c in part.lower..<part.upper {
                let mark = chosen.count
                push(clause: c)
                let cost = addedCost()
                if c == part.lower
                    || isBetter(cost: cost, count: chosen.count, than: partCost, partBest.count, partBest)
                {
                    partBest.removeAll(keepingCapacity: true)
                    partBest.append(contentsOf: chosen)
                    partCost = cost
                }
                chosen.removeLast(chosen.count - mark)
            }
            chosen.removeAll(keepingCapacity: true)
            chosen.append(contentsOf: partBest)
        }
        best.append(contentsOf: chosen)
        bestCost = addedCost()
        bestCount = chosen.count
        hasBest = true
        // With one part the greedy pass has compared every clause: it is the answer.
        if parts.count > 1 {
            chosen.removeAll(keepingCapacity: true)
            // Exact depth-first search over one clause per part. Adding scopes never lowers the added privilege or
            // the count, so a partial choice already worse on (privilege, count) than the best complete one is
            // abandoned.
            search(0)
        }
        sortByName(&best)
        return best
    }

    /// Sorts `ids` by name, in place (the candidate arrays are uniquely held, so no copy is made).
    func sortByName(_ ids: inout [ScopeID]) {
        if ids.count < 2 { return }
        let ranks = policy.scopes.nameRanks
        ids.sort { ranks[Int($0)] < ranks[Int($1)] }
    }

    mutating func search(_ p: Int) {
        guard budget > 0 else { return }
        budget -= 1
        let cost = addedCost()
        if hasBest && (cost, chosen.count) > (bestCost, bestCount) { return }
        if p == parts.count {
            if isBetter(cost: cost, count: chosen.count, than: bestCost, bestCount, best) {
                best.removeAll(keepingCapacity: true)
                best.append(contentsOf: chosen)
                bestCost = cost
                bestCount = chosen.count
            }
            return
        }
        let part = parts[p]
        for c in part.lower..<part.upper {
            let mark = chosen.count
            push(clause: c)
            search(p + 1)
            chosen.removeLast(chosen.count - mark)
        }
    }

    /// Adds the clause's scopes that the grant's closure lacks and that are not chosen yet.
    mutating func push(clause c: Int32) {
        let bounds = policy.clauseBounds
        var k = Int(bounds[Int(c)])
        let end = Int(bounds[Int(c) + 1])
        while k < end {
            let id = policy.clauseIDs[k]
            if !closure.contains(id) && !chosen.contains(id) { chosen.append(id) }
            k += 1
        }
    }

    /// Privilege the candidate adds to the grant's closure (each new member counted once).
    func addedCost() -> Int {
        let table = policy.scopes
        var total = 0
        for j in chosen.indices {
            for m in table.members(of: chosen[j]) where !closure.contains(m) {
                var seen = false
                var i = 0
                while i < j {
                    if table.closureContains(chosen[i], m) {
                        seen = true
                        break
                    }
                    i += 1
                }
                if !seen { total &+= table.weights[Int(m)] }
            }
        }
        return total
    }

    /// Strictly better on (privilege, count, sorted names). Names are compared through their ranks
    /// (``ScopeTable/nameRanks``), which order scopes as their names do; only on a tie of privilege and count.
    func isBetter(cost: Int, count: Int, than otherCost: Int, _ otherCount: Int, _ other: [ScopeID]) -> Bool {
        if cost != otherCost { return cost < otherCost }
        if count != otherCount { return count < otherCount }
        return Self.namesPrecede(chosen, other, ranks: policy.scopes.nameRanks)
    }

    /// Whether the sorted names of `a` precede those of `b`, compared as sorted ranks in a temporary buffer (on
    /// the stack for the few scopes a completion has, so a tie-break allocates nothing).
    static func namesPrecede(_ a: [ScopeID], _ b: [ScopeID], ranks: [UInt32]) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: a.count + b.count) { buffer in
            for (k, id) in a.enumerated() { buffer[k] = ranks[Int(id)] }
            for (k, id) in b.enumerated() { buffer[a.count + k] = ranks[Int(id)] }
            var x = UnsafeMutableBufferPointer(rebasing: buffer[0..<a.count])
            var y = UnsafeMutableBufferPointer(rebasing: buffer[a.count...])
            x.sort()
            y.sort()
            return x.lexicographicallyPrecedes(y)
        }
    }
}
