/// The interned scopes of a compiled policy: name ↔ id, risk, and the precomputed closure of every scope
/// (itself, everything it implies transitively, and for wildcards everything they cover).
///
/// Closures are kept as sorted member lists in one flat buffer; only a closure large enough that a word-wise
/// union beats walking its members (a broad wildcard) is also kept as a bitset. A bitset per scope would cost
/// `scopes² / 8` bytes: 3.1 MB at 5,000 scopes, most of it zeros.
///
/// ```swift
/// let table = policy.scopes
/// if let id = table.id("admin:files") {
///     print(table.name(of: id), table.risk(of: id), table.closure(id).count)   // itself and what it implies
/// }
/// ```
public struct ScopeTable: Sendable {
    let names: [String]
    /// Each scope's position in the byte-wise (UTF-8) order of names: comparing ranks orders scopes exactly as
    /// comparing their names does, so the completion search's tie-breaks compare integers, not strings.
    package let nameRanks: [UInt32]
    let index: NameIndex
    let risks: [Risk]
    /// The members of every closure as sorted id lists, concatenated: scope `i`'s members are
    /// `memberIDs[memberStarts[i] ..< memberStarts[i + 1]]` (denials and grants walk these instead of whole
    /// bitsets). One flat buffer: a grant touches no per-scope array header (and retains none).
    let memberIDs: [ScopeID]
    let memberStarts: [Int32]
    /// The closure as a bitset, for the closures with at least half as many members as a bitset has words.
    let denseClosures: [ScopeSet?]
    /// Risk weight of each scope, by id.
    let weights: [Int]
    /// Privilege of each scope's closure (sum of risk weights).
    let closureCosts: [Int]
    let wildcard: [Bool]
    /// Ids by ASCII-lowercased name, for the case hint of an unknown granted scope; nil when no name has an
    /// uppercase letter (`index` then answers lowercased lookups itself, and compiling builds nothing more).
    let foldedIndex: NameIndex?

    init(model: PolicyModel) {
        let defs = model.scopes
        let index = NameIndex(defs.map(\.name))
        var edges = [[ScopeID]](repeating: [], count: defs.count)
        for (i, def) in defs.enumerated() {
            edges[i] = def.implies.compactMap { index.lookup($0) }
            if def.isWildcard { edges[i] += def.covers.compactMap { index.lookup($0) } }
        }
        // Closures in reverse topological order (memoized DFS, iterative; robust to cycles: a scope whose closure
        // is not finished yet, on a cycle, adds only itself). Unions are taken in one reused bitset.
        var closures = [[ScopeID]?](repeating: nil, count: defs.count)
        var scratch = ScopeSet(capacity: defs.count)
        var collected: [ScopeID] = []
        for root in defs.indices where closures[root] == nil {
            var stack: [(Int, Bool)] = [(root, false)]
            var visiting = Set<Int>()
            while let (node, expanded) = stack.popLast() {
                if closures[node] != nil { continue }
                if expanded {
                    collected.removeAll(keepingCapacity: true)
                    func add(_ id: ScopeID) {
                        if !scratch.contains(id) {
                            scratch.insert(id)
                            collected.append(id)
                        }
                    }
                    add(ScopeID(node))
                    for next in edges[node] {
                        if let c = closures[Int(next)] { for m in c { add(m) } } else { add(next) }
                    }
                    for id in collected { scratch.remove(id) }
                    collected.sort()
                    closures[node] = collected
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
        self.nameRanks = ScopeTable.ranks(of: self.names)
        self.index = index
        let hasUppercase = defs.contains {
            $0.name.utf8.contains { UInt8(ascii: "A") <= $0 && $0 <= UInt8(ascii: "Z") }
        }
        self.foldedIndex = hasUppercase ? NameIndex(defs.map { ScopeTable.asciiLowercased($0.name) }) : nil
        self.risks = defs.map(\.risk)
        self.wildcard = defs.map(\.isWildcard)
        let weights = self.risks.map(\.weight)
        self.weights = weights
        var memberIDs: [ScopeID] = []
        memberIDs.reserveCapacity(closures.reduce(0) { $0 + ($1?.count ?? 0) })
        var memberStarts: [Int32] = [0]
        memberStarts.reserveCapacity(defs.count + 1)
        var closureCosts: [Int] = []
        closureCosts.reserveCapacity(defs.count)
        var dense: [ScopeSet?] = []
        dense.reserveCapacity(defs.count)
        let words = scratch.words.count
        for i in closures.indices {
            let members = closures[i] ?? []
            closures[i] = nil
            memberIDs.append(contentsOf: members)
            memberStarts.append(Int32(truncatingIfNeeded: memberIDs.count))
            closureCosts.append(members.reduce(0) { $0 + weights[Int($1)] })
            if members.count * 2 >= words {
                var set = ScopeSet(capacity: defs.count)
                for m in members { set.insert(m) }
                dense.append(set)
            } else {
                dense.append(nil)
            }
        }
        self.memberIDs = memberIDs
        self.memberStarts = memberStarts
        self.closureCosts = closureCosts
        self.denseClosures = dense
    }

    /// Number of scopes.
    public var count: Int { names.count }
    /// The id of a defined scope.
    public func id(_ name: String) -> ScopeID? { index.lookup(name) }
    /// The id of the defined scope whose name is exactly these UTF-8 bytes (a granted name read in place).
    package func id(utf8 name: UnsafeBufferPointer<UInt8>) -> ScopeID? { index.lookup(utf8: name) }
    /// The name of an id.
    public func name(of id: ScopeID) -> String { names[Int(id)] }
    /// The risk of a scope.
    public func risk(of id: ScopeID) -> Risk { risks[Int(id)] }
    /// The closure of a scope.
    public func closure(_ id: ScopeID) -> ScopeSet {
        if let set = denseClosures[Int(id)] { return set }
        var set = ScopeSet(capacity: count)
        addClosure(of: id, to: &set)
        return set
    }

    /// Whether `member` is in the closure of `id` (a binary search of its members; no set is built).
    func closureContains(_ id: ScopeID, _ member: ScopeID) -> Bool {
        if let set = denseClosures[Int(id)] { return set.contains(member) }
        var low = Int(memberStarts[Int(id)])
        var high = Int(memberStarts[Int(id) + 1])
        while low < high {
            let mid = (low + high) / 2
            let m = memberIDs[mid]
            if m == member { return true }
            if m < member { low = mid + 1 } else { high = mid }
        }
        return false
    }
    /// The defined scope whose name equals `name` ignoring ASCII case, if any (scopes are case-sensitive: this
    /// only feeds the "did you mean" hint of an unknown granted scope).
    func caseInsensitiveID(_ name: Substring) -> ScopeID? {
        let lowered = ScopeTable.asciiLowercased(name)
        return (foldedIndex ?? index).lookup(lowered)
    }

    static func asciiLowercased(_ name: some StringProtocol) -> String {
        String(
            decoding: name.utf8.map { UInt8(ascii: "A") <= $0 && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 },
            as: UTF8.self)
    }

    /// The rank of each name in byte-wise order.
    static func ranks(of names: [String]) -> [UInt32] {
        let order = names.indices.sorted { names[$0].utf8.lexicographicallyPrecedes(names[$1].utf8) }
        var ranks = [UInt32](repeating: 0, count: names.count)
        var rank: UInt32 = 0
        for (k, id) in order.enumerated() {
            // Equal names (only in a model the compiler rejects) share a rank, as they compare equal.
            if k > 0, names[order[k - 1]] != names[id] { rank += 1 }
            ranks[id] = rank
        }
        return ranks
    }

    /// Whether the scope is a wildcard.
    public func isWildcard(_ id: ScopeID) -> Bool { wildcard[Int(id)] }
    /// All scope names in id order.
    public var allNames: [String] { names }

    /// Privilege of a set: the sum of risk weights over the union of the members' closures.
    public func cost(of set: ScopeSet) -> Int {
        var union = ScopeSet(capacity: count)
        set.forEachMember { addClosure(of: $0, to: &union) }
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
        memberIDs[Int(memberStarts[Int(id)])..<Int(memberStarts[Int(id) + 1])]
    }

    /// Adds the closure of `id` to `set`: bit by bit when the closure is small (the usual case: a scope and the
    /// few it implies), as a word-wise union when it is large (broad wildcards), whichever touches less memory.
    @inline(__always)
    package func addClosure(of id: ScopeID, to set: inout ScopeSet) {
        let start = Int(memberStarts[Int(id)])
        let end = Int(memberStarts[Int(id) + 1])
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
        } else if let dense = denseClosures[Int(id)] {
            set.formUnion(dense)
        } else {
            for m in members(of: id) { set.insert(m) }
        }
    }

    /// Closure of a list of ids.
    public func closure(of ids: some Sequence<ScopeID>) -> ScopeSet {
        var union = ScopeSet(capacity: count)
        for id in ids { addClosure(of: id, to: &union) }
        return union
    }
}
