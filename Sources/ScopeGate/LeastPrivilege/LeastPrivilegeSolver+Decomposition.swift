/// The exact solver: forced clauses and dominated clauses first, then independent components, each solved by
/// ``ComponentSearch``, then the answers combined. docs/least-privilege.md explains why each step keeps the
/// optimum and every equal-cost alternative.
extension LeastPrivilegeSolver {
    /// A component's answer in the policy's ids: the chosen irredundant scopes it contributes, best first.
    struct ComponentAnswer {
        var cost: Int
        var optimal: Bool
        var lowerBound: Int
        /// Distinct options of cost `cost`, sorted (count, names); at most 11 (the best and 10 alternatives).
        var options: [(count: Int, names: [String], ids: [ScopeID])]
    }

    static func precedes(_ a: (count: Int, names: [String]), _ b: (count: Int, names: [String])) -> Bool {
        if a.count != b.count { return a.count < b.count }
        return a.names.lexicographicallyPrecedes(b.names) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    func solve(parts rawParts: [Part]) -> LeastPrivilegeResult { solveDecomposed(parts: rawParts).result }

    /// The answer, and how many independent components the search was split into (for tests).
    func solveDecomposed(parts rawParts: [Part]) -> (result: LeastPrivilegeResult, components: Int) {
        let table = policy.scopes
        let n = table.count
        let (parts, labels) = Self.deduplicated(rawParts)
        if parts.contains(where: \.clauses.isEmpty) {
            return (
                LeastPrivilegeResult(
                    scopes: [], cost: 0, optimal: false, lowerBound: 0, alternatives: [], neededBy: [:],
                    conditional: [], satisfiable: false), 0
            )
        }
        let closures: [[ScopeSet]] = parts.map { $0.clauses.map { table.closure(of: $0) } }

        // 1. Forced clauses. Every satisfying set's closure contains `base`: a part with one clause needs it, and
        //    a part whose other clauses all add a superset of what one clause adds needs at least that. Parts
        //    satisfied by `base` drop out; clauses adding a superset of another's addition are dominated.
        var base = ScopeSet(capacity: n)
        var alive: [(part: Int, clauses: [Int])] = parts.indices.map { ($0, Array(parts[$0].clauses.indices)) }
        var changed = true
        while changed {
            changed = false
            var next: [(part: Int, clauses: [Int])] = []
            for (p, clauses) in alive {
                let cl = closures[p]
                if clauses.contains(where: { cl[$0].isSubset(of: base) }) { continue }
                var kept: [Int] = []
                for c in clauses {
                    let dominated = clauses.contains { d in
                        d != c && cl[d].isSubset(of: cl[c], outside: base)
                            && (d < c || !cl[c].isSubset(of: cl[d], outside: base))
                    }
                    if !dominated { kept.append(c) }
                }
                if kept.count == 1 {
                    base.formUnion(cl[kept[0]])
                    changed = true
                } else {
                    next.append((p, kept))
                }
            }
            alive = next
        }
        let baseMaximal = table.maximal(of: base, closed: true)

        // 2. Components. Two parts interact when some scope is addable by both, or when both can absorb the same
        //    maximal scope of `base` (a chosen scope implying it makes it redundant, which changes the count).
        //    Across components costs add and the irredundant answers are disjoint unions.
        var nonMaximalBase = base
        nonMaximalBase.subtract(baseMaximal)
        var owner = [Int32](repeating: -1, count: n)
        var parent = Array(alive.indices)
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x {
                parent[x] = parent[parent[x]]
                x = parent[x]
            }
            return x
        }
        var reach: [ScopeSet] = []
        for (i, entry) in alive.enumerated() {
            var g = ScopeSet(capacity: n)
            for c in entry.clauses { g.formUnion(closures[entry.part][c]) }
            g.subtract(nonMaximalBase)
            g.forEachMember { s in
                let o = owner[Int(s)]
                if o < 0 {
                    owner[Int(s)] = Int32(i)
                } else {
                    let a = find(i)
                    let b = find(Int(o))
                    if a != b { parent[max(a, b)] = min(a, b) }
                }
            }
            reach.append(g)
        }
        var groups: [Int: [Int]] = [:]
        for i in alive.indices { groups[find(i), default: []].append(i) }
        var components: [(members: [Int], key: [String])] = groups.values.map { members in
            (
                members,
                members.compactMap { labels[alive[$0].part].min() }.sorted {
                    $0.utf8.lexicographicallyPrecedes($1.utf8)
                }
            )
        }
        components.sort { a, b in
            if a.members.count != b.members.count { return a.members.count < b.members.count }
            if a.key != b.key {
                return a.key.lexicographicallyPrecedes(b.key) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            }
            return (a.members.first ?? 0) < (b.members.first ?? 0)
        }

        // 3. Solve each component on its own dense numbering. The budget is shared (a node costs its component's
        //    number of parts); small components go first, and each component still gets a minimum allowance.
        var answers: [ComponentAnswer] = []
        var nodesLeft = nodeBudget
        var local = [Int32](repeating: -1, count: n)
        for component in components {
            var universe = ScopeSet(capacity: n)
            var edge = ScopeSet(capacity: n)
            for i in component.members { universe.formUnion(reach[i]) }
            edge = universe
            universe.subtract(base)
            edge.subtract(universe)  // the maximal scopes of `base` this component can absorb
            let scopes = universe.ids
            for (k, s) in scopes.enumerated() { local[Int(s)] = Int32(k) }
            let clauses: [[[Int]]] = component.members.map { i in
                alive[i].clauses.map { c in
                    var out: [Int] = []
                    closures[alive[i].part][c].forEachMember { s in
                        if !base.contains(s) { out.append(Int(local[Int(s)])) }
                    }
                    return out
                }
            }
            let search = ComponentSearch(
                weights: scopes.map { table.risk(of: $0).weight }, clauses: clauses,
                budget: max(nodesLeft, min(nodeBudget, 20_000)))
            search.run()
            nodesLeft = max(0, nodesLeft - search.nodes)
            var options: [(count: Int, names: [String], ids: [ScopeID])] = []
            for tie in search.ties {
                var added = edge
                for (k, s) in scopes.enumerated() where tie[k >> 6] & (1 << UInt64(k & 63)) != 0 { added.insert(s) }
                let ids = table.maximal(of: added, closed: false).ids
                let names = ids.map { table.name(of: $0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                options.append((ids.count, names, ids))
            }
            options.sort { Self.precedes(($0.count, $0.names), ($1.count, $1.names)) }
            let optimal = !search.exhausted
            answers.append(
                ComponentAnswer(
                    cost: search.best, optimal: optimal,
                    lowerBound: optimal ? search.best : min(search.best, search.rootBound),
                    options: Array(options.prefix(optimal ? 11 : 1))))
            for s in scopes { local[Int(s)] = -1 }
        }

        // 4. Combine: the maximal scopes of `base` no component can absorb, plus each component's best option.
        var fixed = baseMaximal
        for component in components { for i in component.members { fixed.subtract(reach[i]) } }
        var ids = fixed.ids
        for a in answers { ids += a.options.first?.ids ?? [] }
        let names = ids.map { table.name(of: $0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let cost = table.weight(base) + answers.reduce(0) { $0 + $1.cost }
        let optimal = answers.allSatisfy(\.optimal)
        let lowerBound = table.weight(base) + answers.reduce(0) { $0 + $1.lowerBound }

        // Alternatives: the best combinations of per-component options. Options are disjoint across components,
        // so a combination's rank (count, then names) improves whenever one component's option does: the 11 best
        // combinations use only each component's 11 best options, and merging component by component keeps 11.
        var alternatives: [[String]] = []
        if optimal {
            var combos: [(count: Int, names: [String])] = [(0, [])]
            var stable: [String] = fixed.ids.map { table.name(of: $0) }
            for a in answers {
                if a.options.count < 2 {
                    stable += a.options.first?.names ?? []
                    continue
                }
                var merged: [(count: Int, names: [String])] = []
                for c in combos {
                    for o in a.options {
                        merged.append(
                            (
                                c.count + o.count,
                                (c.names + o.names).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                            ))
                    }
                }
                merged.sort { Self.precedes($0, $1) }
                combos = Array(merged.prefix(11))
            }
            alternatives = combos.dropFirst().map {
                ($0.names + stable).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            }
        }
        return (
            finish(
                ids, names: names, cost: cost, optimal: optimal, lowerBound: optimal ? cost : min(lowerBound, cost),
                alternatives: alternatives, parts: parts, labels: labels), components.count
        )
    }
}
