/// What a least-privilege question is about: a tool (by exact name, glob key, or a name a glob matches),
/// optionally restricted to some of its actions (none given = all actions).
///
/// ```swift
/// let selections = [ToolSelection(tool: "read_file"), ToolSelection(tool: "manage", actions: ["archive"])]
/// let least = try LeastPrivilegeSolver(policy: policy).minimal(for: selections)
/// ```
public struct ToolSelection: Sendable, Hashable {
    public var tool: String
    public var actions: [String]?
    public init(tool: String, actions: [String]? = nil) {
        self.tool = tool
        self.actions = actions
    }
}

/// The least-privilege answer.
///
/// ```swift
/// let result = try LeastPrivilegeSolver(policy: policy).minimal(for: [ToolSelection(tool: "read_file")])
/// print(result.scopes, "cost", result.cost, result.optimal ? "(optimal)" : "(best found)")
/// ```
public struct LeastPrivilegeResult: Sendable, Hashable {
    /// The chosen scopes, sorted by name (UTF-8 bytes).
    public var scopes: [String]
    /// Privilege: sum of risk weights over the closure of `scopes`.
    public var cost: Int
    /// Whether the answer is proven optimal (exhaustive branch and bound finished).
    public var optimal: Bool
    /// A lower bound on the optimal cost (equals `cost` when optimal).
    public var lowerBound: Int
    /// Other scope sets of the same cost (up to 10), each sorted.
    public var alternatives: [[String]]
    /// For each chosen scope, the tools (and actions, as `tool.action`) that need it.
    public var neededBy: [String: [String]]
    /// `when` extras left out of the answer: (tool, argument summary, clauses).
    public var conditional: [ConditionalExtra]
    /// False when some selected tool cannot be satisfied (never happens for error-free policies).
    public var satisfiable: Bool

    public struct ConditionalExtra: Sendable, Hashable {
        public var tool: String
        public var when: String
        public var clauses: [[String]]
    }
}

/// Errors of least-privilege questions (bad input named on a command line).
///
/// ```swift
/// do {
///     _ = try LeastPrivilegeSolver(policy: policy).minimal(for: [ToolSelection(tool: "no_such_tool")])
/// } catch {
///     print(error.message)   // unknown tool `no_such_tool` (typed throws: `error` is a LeastPrivilegeError)
/// }
/// ```
public struct LeastPrivilegeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Finds the scope set of least privilege for a set of requirements. Objective: minimum privilege (sum of risk
/// weights over the closure), then fewest scopes, then lexicographic order of the sorted names. Exact by branch
/// and bound over one-clause-per-requirement choices (the optimum is always a union of chosen clauses, since
/// any other scope only adds to the closure), with a node budget; past it, greedy with a lower bound.
///
/// ```swift
/// let solver = LeastPrivilegeSolver(policy: policy)
/// let result = try solver.minimal(for: [ToolSelection(tool: "read_file"), ToolSelection(tool: "write_file")])
/// print(result.scopes.joined(separator: " "))   // the scope string to request
/// ```
public struct LeastPrivilegeSolver: Sendable {
    public let policy: CompiledPolicy
    /// Search effort before giving up on proving optimality (default 50,000): a node of the exact search costs
    /// the number of requirement parts of the component it searches, which bounds the time spent on a question.
    public var nodeBudget: Int = 50_000

    public init(policy: CompiledPolicy) { self.policy = policy }

    /// One requirement part (a DNF) with the tools that contribute it.
    struct Part {
        var clauses: [[ScopeID]]
        var label: String
    }

    /// The parts of a selection, or an error for unknown tools/actions.
    func parts(for selections: [ToolSelection]) throws(LeastPrivilegeError) -> (
        [Part], [LeastPrivilegeResult.ConditionalExtra]
    ) {
        let model = policy.model
        var parts: [Part] = []
        var extras: [LeastPrivilegeResult.ConditionalExtra] = []
        func clauses(_ r: Requirement?) -> [[ScopeID]]? {
            guard let r, !r.clauses.isEmpty else { return nil }
            return r.clauses.map { $0.compactMap { policy.scopes.id($0) } }
        }
        func describe(_ w: ConditionalRequirement) -> String {
            w.conditions.map { c in "\(c.argument) " + c.matchers.map(\.name).joined(separator: "+") }.joined(
                separator: ", ")
        }
        for selection in selections {
            let rule =
                model.toolIndex[selection.tool].map { model.tools[$0] }
                ?? model.tools.first { $0.pattern == selection.tool }
                ?? ToolResolution.bestGlob(for: selection.tool, in: model.tools)
            guard let rule else {
                let hint =
                    Suggest.closest(to: selection.tool, in: model.tools.map(\.pattern)).map {
                        "; did you mean `\($0)`?"
                    } ?? ""
                throw LeastPrivilegeError(message: "unknown tool `\(selection.tool)`\(hint)")
            }
            if rule.isPublic { continue }
            if let c = clauses(rule.requirement) { parts.append(Part(clauses: c, label: selection.tool)) }
            for w in rule.when {
                extras.append(.init(tool: selection.tool, when: describe(w), clauses: w.requirement.clauses))
            }
            guard let actions = rule.actions else {
                if let asked = selection.actions, !asked.isEmpty {
                    throw LeastPrivilegeError(message: "tool `\(rule.pattern)` has no actions")
                }
                continue
            }
            let chosen = selection.actions ?? actions.map(\.name)
            for name in chosen {
                guard let action = actions.first(where: { $0.name == name }) else {
                    throw LeastPrivilegeError(
                        message: "tool `\(rule.pattern)` has no action `\(name)`"
                            + Suggest.clause(name, actions.map(\.name)))
                }
                if let c = clauses(action.requirement) {
                    parts.append(Part(clauses: c, label: "\(selection.tool).\(name)"))
                }
                for w in action.when {
                    extras.append(
                        .init(tool: "\(selection.tool).\(name)", when: describe(w), clauses: w.requirement.clauses))
                }
            }
        }
        return (parts, extras)
    }

    /// Least privilege for tool selections. Throws for unknown tools or actions.
    public func minimal(for selections: [ToolSelection]) throws(LeastPrivilegeError) -> LeastPrivilegeResult {
        let (parts, extras) = try parts(for: selections)
        var result = solve(parts: parts)
        result.conditional = extras
        return result
    }

    /// Least privilege for selections, ignoring unknown names (used by lint, where they are reported elsewhere).
    func solve(_ selections: [ToolSelection]) -> LeastPrivilegeResult {
        let valid = selections.filter { (try? parts(for: [$0])) != nil }
        return (try? minimal(for: valid)) ?? solve(parts: [])
    }

    /// Whether granting `names` satisfies every selected tool (all actions).
    func satisfies(names: [String], _ selections: [ToolSelection]) -> Bool {
        guard let (parts, _) = try? parts(for: selections) else { return false }
        let closure = policy.scopes.closure(of: names.compactMap { policy.scopes.id($0) })
        return parts.allSatisfy { part in part.clauses.contains { $0.allSatisfy { closure.contains($0) } } }
    }

    typealias Score = (cost: Int, count: Int, names: [String])

    static func better(_ a: Score, _ b: Score) -> Bool {
        if a.cost != b.cost { return a.cost < b.cost }
        if a.count != b.count { return a.count < b.count }
        return a.names.lexicographicallyPrecedes(b.names) { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// Removes members implied by other members (same closure, fewer scopes).
    func reduce(_ ids: Set<ScopeID>) -> [ScopeID] {
        ids.filter { id in
            !ids.contains { other in
                other != id && policy.scopes.closureContains(other, id)
                    && !(policy.scopes.closureContains(id, other) && other > id)
            }
        }
    }

    func score(_ ids: [ScopeID]) -> Score {
        let names = ids.map { policy.scopes.name(of: $0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return (policy.scopes.cost(of: setOf(ids)), ids.count, names)
    }

    func setOf(_ ids: some Sequence<ScopeID>) -> ScopeSet {
        var s = ScopeSet(capacity: policy.scopes.count)
        for id in ids { s.insert(id) }
        return s
    }

    /// Parts with the same clauses (in any order, scopes in any order) merged into one, which keeps every label;
    /// clauses come out as sorted, distinct ids, in a canonical order.
    static func deduplicated(_ rawParts: [Part]) -> (parts: [Part], labels: [[String]]) {
        var seen: [[[ScopeID]]: Int] = [:]
        var parts: [Part] = []
        var labels: [[String]] = []
        for part in rawParts {
            let key = part.clauses.map { Array(Set($0)).sorted() }.sorted { $0.lexicographicallyPrecedes($1) }
            if let i = seen[key] {
                labels[i].append(part.label)
            } else {
                seen[key] = parts.count
                parts.append(Part(clauses: key, label: part.label))
                labels.append([part.label])
            }
        }
        return (parts, labels)
    }

    /// The undecomposed solver: one branch and bound over all parts with the plain "cost > best" bound, a global
    /// node budget and greedy fallback. The reference the decomposed solver is tested against on instances
    /// too large for exhaustive enumeration (it is exact whenever it reports `optimal`).
    func solveUndecomposed(parts rawParts: [Part]) -> LeastPrivilegeResult {
        let table = policy.scopes
        let (parts, labelsByPart) = Self.deduplicated(rawParts)
        if parts.contains(where: \.clauses.isEmpty) {
            return LeastPrivilegeResult(
                scopes: [], cost: 0, optimal: false, lowerBound: 0, alternatives: [], neededBy: [:],
                conditional: [], satisfiable: false)
        }
        // Fewest clauses first (forced choices early), then by position for determinism.
        let order = parts.indices.sorted { (parts[$0].clauses.count, $0) < (parts[$1].clauses.count, $1) }
        var best: (ids: [ScopeID], score: Score)?
        var ties: [[ScopeID]] = []
        var nodes = 0
        var exhausted = false

        func search(_ depth: Int, _ closure: ScopeSet, _ chosen: Set<ScopeID>, _ cost: Int) {
            nodes += 1
            if nodes > nodeBudget {
                exhausted = true
                return
            }
            if let best, cost > best.score.cost { return }
            // Skip parts already satisfied by the current closure (dominance: adding nothing is never worse).
            var d = depth
            while d < order.count, parts[order[d]].clauses.contains(where: { $0.allSatisfy { closure.contains($0) } }) {
                d += 1
            }
            if d == order.count {
                let ids = reduce(chosen)
                let s = score(ids)
                if let current = best, s.cost == current.score.cost {
                    let key = s.names
                    if Self.better(s, current.score) {
                        ties.append(current.ids)
                        best = (ids, s)
                    } else if key != current.score.names {
                        ties.append(ids)
                    }
                } else if best.map({ s.cost < $0.score.cost }) ?? true {
                    best = (ids, s)
                    ties = []
                }
                return
            }
            // Branch over the clauses of the next unsatisfied part, cheapest marginal cost first.
            let candidates = parts[order[d]].clauses.map { clause -> (ScopeSet, Int, [ScopeID]) in
                var next = closure
                for id in clause { table.addClosure(of: id, to: &next) }
                return (next, table.weight(next), clause)
            }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2.lexicographicallyPrecedes($1.2) }
            for (next, nextCost, clause) in candidates {
                if exhausted { return }
                search(d + 1, next, chosen.union(clause), nextCost)
            }
        }
        let empty = ScopeSet(capacity: table.count)
        search(0, empty, [], 0)

        if exhausted || best == nil {
            // Greedy: satisfy parts in order with the cheapest marginal clause.
            var closure = empty
            var chosen = Set<ScopeID>()
            var lower = 0
            for index in order {
                let part = parts[index]
                let alone = part.clauses.map { table.weight(table.closure(of: $0)) }.min() ?? 0
                lower = max(lower, alone)
                if part.clauses.contains(where: { $0.allSatisfy { closure.contains($0) } }) { continue }
                let pick =
                    part.clauses.min { a, b in
                        var x = closure
                        var y = closure
                        for id in a { table.addClosure(of: id, to: &x) }
                        for id in b { table.addClosure(of: id, to: &y) }
                        return table.weight(x) < table.weight(y)
                    } ?? []
                for id in pick { table.addClosure(of: id, to: &closure) }
                chosen.formUnion(pick)
            }
            let ids = reduce(chosen)
            let s = score(ids)
            let greedyBest = best.map { Self.better($0.score, s) ? $0 : (ids, s) } ?? (ids, s)
            return finish(
                greedyBest.0, names: greedyBest.1.names, cost: greedyBest.1.cost, optimal: false,
                lowerBound: min(lower, greedyBest.1.cost), alternatives: [], parts: parts, labels: labelsByPart)
        }
        guard let best else {
            return finish(
                [], names: [], cost: 0, optimal: true, lowerBound: 0, alternatives: [], parts: parts,
                labels: labelsByPart)
        }
        return finish(
            best.ids, names: best.score.names, cost: best.score.cost, optimal: true, lowerBound: best.score.cost,
            alternatives: alternatives(ties, besides: best.score), parts: parts, labels: labelsByPart)
    }

    /// Equal-cost alternatives from the undecomposed search's ties: distinct, best first, at most 10.
    func alternatives(_ ties: [[ScopeID]], besides s: Score) -> [[String]] {
        var alternatives: [[String]] = []
        var seen: Set<[String]> = [s.names]
        for tie in ties.map({ score($0) }).sorted(by: { Self.better($0, $1) }) where seen.insert(tie.names).inserted {
            alternatives.append(tie.names)
            if alternatives.count == 10 { break }
        }
        return alternatives
    }

    /// Builds the result for the chosen (irredundant) scopes. "Needed by": for each part, the clause of the part
    /// the answer satisfies — the cheapest by closure cost, then the fewest scopes, then the first by sorted names,
    /// so it does not depend on declaration order — is attributed to every chosen scope whose closure meets it.
    func finish(
        _ ids: [ScopeID], names: [String], cost: Int, optimal: Bool, lowerBound: Int, alternatives: [[String]],
        parts: [Part], labels: [[String]]
    ) -> LeastPrivilegeResult {
        let table = policy.scopes
        let closure = table.closure(of: ids)
        // Which chosen scopes cover each scope of the closure.
        var coveredBy: [ScopeID: [ScopeID]] = [:]
        for id in ids { for m in table.members(of: id) { coveredBy[m, default: []].append(id) } }
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var neededBy: [String: Set<String>] = [:]
        for (p, part) in parts.enumerated() {
            let satisfied = part.clauses.filter { $0.allSatisfy { closure.contains($0) } }
            let clause: [ScopeID]?
            if satisfied.count <= 1 {
                clause = satisfied.first
            } else {
                clause =
                    satisfied.map { c -> (Int, Int, [String], [ScopeID]) in
                        (
                            table.weight(table.closure(of: c)), c.count,
                            c.map { table.name(of: $0) }.sorted(by: byName), c
                        )
                    }.min { a, b in
                        if a.0 != b.0 { return a.0 < b.0 }
                        if a.1 != b.1 { return a.1 < b.1 }
                        return a.2.lexicographicallyPrecedes(b.2, by: byName)
                    }?.3
            }
            guard let clause else { continue }
            var users = Set<ScopeID>()
            for x in clause { users.formUnion(coveredBy[x] ?? []) }
            for id in users { neededBy[table.name(of: id), default: []].formUnion(labels[p]) }
        }
        return LeastPrivilegeResult(
            scopes: names, cost: cost, optimal: optimal, lowerBound: lowerBound,
            alternatives: alternatives, neededBy: neededBy.mapValues { $0.sorted() },
            conditional: [], satisfiable: true)
    }
}
