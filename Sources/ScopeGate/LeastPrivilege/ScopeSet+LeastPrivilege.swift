/// Word-level helpers the least-privilege solver needs on bitsets, without allocating a set per question.
extension ScopeSet {
    /// Whether every member of `self` outside `base` is in `other`: (self \ base) ⊆ other.
    func isSubset(of other: ScopeSet, outside base: ScopeSet) -> Bool {
        let n = words.count
        guard other.words.count == n, base.words.count == n else { return false }
        return words.withUnsafeBufferPointer { a in
            other.words.withUnsafeBufferPointer { b in
                base.words.withUnsafeBufferPointer { c in
                    var i = 0
                    while i < n {
                        if a[i] & ~c[i] & ~b[i] != 0 { return false }
                        i += 1
                    }
                    return true
                }
            }
        }
    }

    /// Calls `body` with each member in increasing order.
    func forEachMember(_ body: (ScopeID) -> Void) {
        for (i, word) in words.enumerated() {
            var w = word
            while w != 0 {
                body(ScopeID(i &* 64 &+ w.trailingZeroBitCount))
                w &= w &- 1
            }
        }
    }

    /// Removes every member of `other`.
    mutating func subtract(_ other: ScopeSet) {
        let n = min(words.count, other.words.count)
        words.withUnsafeMutableBufferPointer { target in
            other.words.withUnsafeBufferPointer { source in
                var i = 0
                while i < n {
                    target[i] &= ~source[i]
                    i += 1
                }
            }
        }
    }

    /// Removes `id` (ignored beyond the capacity).
    mutating func remove(_ id: ScopeID) {
        let w = Int(id >> 6)
        guard w < words.count else { return }
        words[w] &= ~(1 << UInt64(id & 63))
    }
}

extension ScopeTable {
    /// The members of `set` that no other member implies. For a closed set and an acyclic hierarchy this is the
    /// unique smallest set with the same closure. Members of an implication cycle (an error in a policy, but lint
    /// still asks) are resolved as ``LeastPrivilegeSolver/reduce(_:)`` does: the smallest id of the cycle stays.
    /// Pass `closed: true` when `set` is its own closure (saves recomputing it for the cycle check).
    func maximal(of set: ScopeSet, closed: Bool) -> ScopeSet {
        var implied = ScopeSet(capacity: count)
        set.forEachMember { t in
            let had = implied.contains(t)
            addClosure(of: t, to: &implied)
            if !had { implied.remove(t) }
        }
        var result = set
        result.subtract(implied)
        // Without cycles the maximal members generate the same closure; if they do not, there is a cycle.
        if closure(of: result.ids) == (closed ? set : closure(of: set.ids)) { return result }
        var slow = ScopeSet(capacity: count)
        let members = set.ids
        for id in members
        where !members.contains(where: { other in
            other != id && closureContains(other, id) && !(closureContains(id, other) && other > id)
        }) { slow.insert(id) }
        return slow
    }
}
