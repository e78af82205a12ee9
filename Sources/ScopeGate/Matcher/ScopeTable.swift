/// The interned scopes of a compiled policy: name ↔ id, risk, and the precomputed closure of every scope
/// (itself, everything it implies transitively, and for wildcards everything they cover).
public struct ScopeTable: Sendable {
     let names: [String]
     let index: NameIndex
    let risks: [Risk]
    let closures: [ScopeSet]
    /// The members of every closure as sorted id lists, concatenated: scope `i`'s members are
    /// `memberIDs[memberStarts[i] ..< memberStarts[i + 1]]` (denials and grants walk these instead of whole
    /// bitsets). One flat buffer: a grant touches no per-scope array header (and retains none).
    let memberIDs: [ScopeID]
    let memberStarts: [Int32]
    /// Risk weight of each scope, by id.
    let weights: [Int]
    /// Privilege of each scope's closure (sum of risk weights).
    let closureCosts: [Int]
    let wildcard: [Bool]

    init(model: PolicyModel) {
        let defs = model.scopes
        let index = NameIndex(defs.map(\.name))
        var edges = [[ScopeID]](repeating: [], count: defs.count)
        for (i, def) in defs.enumerated() {
            edges[i] = def.implies.compactMap { index.lookup($0) }
            if def.isWildcard { edges[i] += def.covers.compactMap { index.lookup($0) } }
        }
        // Closures in reverse topological order (memoized DFS, iterative; robust to cycles).
        var closures = [ScopeSet?](repeating: nil, count: defs.count)
        for root in defs.indices where closures[root] == nil {
            var stack: [(Int, Bool)] = [(root, false)]
            var visiting = Set<Int>()
            while let (node, expanded) = stack.popLast() {
                if closures[node] != nil { continue }
                if expanded {
                    var set = ScopeSet(capacity: defs.count)
                    set.insert(ScopeID(node))
                    for next in edges[node] {
                        if let c = closures[Int(next)] { set.formUnion(c) } else { set.insert(next) }
                    }
                    closures[node] = set
                    visiting.remove(node)
                } else {
                    guard visiting.insert(node).inserted else { continue }
                    stack.append((node, true))
                    for next in edges[node] where closures[Int(next)] == nil && !visiting.contains(Int(next)) {
                        stack.append((Int(next), false))
                    }
                }
            }
        }
        self.names = defs.map(\.name)
        self.index = index
        self.risks = defs.map(\.risk)
        self.closures = closures.map { $0 ?? ScopeSet(capacity: defs.count) }
        self.wildcard = defs.map(\.isWildcard)
        let weights = self.risks.map(\.weight)
        self.weights = weights
        var memberIDs: [ScopeID] = []
        var memberStarts: [Int32] = [0]
        memberStarts.reserveCapacity(defs.count + 1)
        var closureCosts: [Int] = []
        closureCosts.reserveCapacity(defs.count)
        for set in self.closures {
            var cost = 0
            set.forEachMember { id in
                memberIDs.append(id)
                cost += weights[Int(id)]
            }
            memberStarts.append(Int32(truncatingIfNeeded: memberIDs.count))
            closureCosts.append(cost)
        }
        self.memberIDs = memberIDs
        self.memberStarts = memberStarts
        self.closureCosts = closureCosts
    }

    /// Number of scopes.
    public var count: Int { names.count }
    /// The id of a defined scope.
     public func id(_ name: String) -> ScopeID? { index.lookup(name) }
    /// The name of an id.
    public func name(of id: ScopeID) -> String { names[Int(id)] }
    /// The risk of a scope.
    public func risk(of id: ScopeID) -> Risk { risks[Int(id)] }
    /// The closure of a scope.
    public func closure(_ id: ScopeID) -> ScopeSet { closures[Int(id)] }
    /// Whether the scope is a wildcard.
    public func isWildcard(_ id: ScopeID) -> Bool { wildcard[Int(id)] }
    /// All scope names in id order.
    public var allNames: [String] { names }

    /// Privilege of a set: the sum of risk weights over the union of the members' closures.
    public func cost(of set: ScopeSet) -> Int {
        var union = ScopeSet(capacity: count)
        for id in set.ids { union.formUnion(closures[Int(id)]) }
        return weight(union)
    }

    /// Sum of risk weights of the members themselves (the set is taken as already closed).
    /// Walks the set's words directly rather than through ``ScopeSet/ids``, which allocates an array: this runs
    /// once per candidate in the cheapest-completion search of every denial and at every least-privilege node.
    public func weight(_ closed: ScopeSet) -> Int {
        var total = 0
        for (w, word) in closed.words.enumerated() {
            var bits = word
            while bits != 0 {
                total += risks[w &* 64 &+ bits.trailingZeroBitCount].weight
                bits &= bits &- 1
            }
        }
        return total
    }

    /// Privilege of a list of names (unknown names are ignored).
    public func cost(ofNames names: [String]) -> Int {
        var set = ScopeSet(capacity: count)
        for name in names { if let id = index.lookup(name) { set.insert(id) } }
        return cost(of: set)
    }

    /// The members of the closure of `id`, in increasing order.
    func members(of id: ScopeID) -> ArraySlice<ScopeID> {
        memberIDs[Int(memberStarts[Int(id)]) ..< Int(memberStarts[Int(id) + 1])]
    }

    /// Adds the closure of `id` to `set`: bit by bit when the closure is small (the usual case: a scope and the
    /// few it implies), as a word-wise union when it is large (broad wildcards), whichever touches less memory.
    @inline(__always)
    func addClosure(of id: ScopeID, to set: inout ScopeSet) {
        let start = Int(memberStarts[Int(id)]), end = Int(memberStarts[Int(id) + 1])
        if (end - start) * 2 < set.words.count {
            // One uniqueness check for the whole list, not one per member (`insert` re-checks each time).
            set.words.withUnsafeMutableBufferPointer { words in
                memberIDs.withUnsafeBufferPointer { ids in
                    var k = start
                    while k < end {
                        let m = ids[k]
                        let w = Int(m >> 6)
                        if w < words.count { words[w] |= 1 << UInt64(m & 63) }
                        k &+= 1
                    }
                }
            }
        } else {
            set.formUnion(closures[Int(id)])
        }
    }

    /// Closure of a list of ids.
    public func closure(of ids: some Sequence<ScopeID>) -> ScopeSet {
        var union = ScopeSet(capacity: count)
        for id in ids { union.formUnion(closures[Int(id)]) }
        return union
    }
}
