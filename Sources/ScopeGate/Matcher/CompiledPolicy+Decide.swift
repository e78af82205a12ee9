extension CompiledPolicy {
    /// Methods that need only a valid token unless `methods:` says otherwise.
    static let tokenOnlyMethods: Set<String> = [
        "initialize", "ping", "tools/list", "resources/list",
        "resources/templates/list", "prompts/list",
    ]

    /// Decides a call. Fails closed: unknown tools, actions and methods are denied with a reason.
    /// A grant resolved against another policy version is re-resolved from its strings first.

    public func decide(_ call: Call, grant: Grant) -> Decision {
        if grant.stamp != stamp { return decide(call, grant: self.grant(grant.granted)) }
        switch call.method {
        case "tools/call":
            guard let index = tools.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownTool, rule: nil)
            }
            return evaluate(tools.rules[index], call: call, closure: grant.closure)
        case "resources/read":
            guard let index = resources.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownResource, rule: nil)
            }
            return evaluate(resources.rules[index], call: call, closure: grant.closure)
        case "prompts/get":
            guard let index = prompts.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownPrompt, rule: nil)
            }
            return evaluate(prompts.rules[index], call: call, closure: grant.closure)
        default:
            if let index = methods.lookup(call.method) {
                return evaluate(methods.rules[index], call: call, closure: grant.closure)
            }
            if Self.tokenOnlyMethods.contains(call.method) || call.method.hasPrefix("notifications/") {
                return Decision(allowed: true, reason: .allowed, rule: nil)
            }
            return Decision(allowed: false, reason: .unknownMethod, rule: nil)
        }
    }

    /// Whether `call` is allowed: exactly `decide(call, grant: grant).allowed`, without building the
    /// ``Decision`` (no reason, notes or cheapest completion). It stops at the first unsatisfied part, so a
    /// denial costs no more than an allow. For yes/no questions — filtering `tools/list`, pre-checks, batch
    /// answers that need no challenge; call ``decide(_:grant:)`` when the reason or `missing` is needed.
    public func isAllowed(_ call: Call, grant: Grant) -> Bool {
        if grant.stamp != stamp { return isAllowed(call, grant: self.grant(grant.granted)) }
        guard let rule = resolveRule(call) else {
            switch call.method {
            case "tools/call", "resources/read", "prompts/get": return false  // unknown tool, resource or prompt
            default: return Self.tokenOnlyMethods.contains(call.method) || call.method.hasPrefix("notifications/")
            }
        }
        return allows(rule, call: call, closure: grant.closure)
    }

    /// ``evaluate(_:call:closure:)``'s answer alone: every applicable part has a satisfied clause (and a
    /// declared action, when the rule has actions).
    func allows(_ rule: CompiledRule, call: Call, closure: ScopeSet) -> Bool {
        if rule.isPublic { return true }
        guard firstSatisfied(rule.requirement, closure) != nil else { return false }
        var notes: [String] = []  // wrong-typed arguments count as matched (fail closed); the notes are dropped
        for w in rule.when where matches(w, call.arguments, notes: &notes) {
            if firstSatisfied(w.requirement, closure) == nil { return false }
        }
        guard let extras = rule.extras, let argument = extras.actionArgument else { return true }
        guard case .string(let value)? = call.arguments[argument], let index = extras.actions[value],
            firstSatisfied(extras.actionList[index].requirement, closure) != nil
        else { return false }
        for w in extras.actionList[index].when where matches(w, call.arguments, notes: &notes) {
            if firstSatisfied(w.requirement, closure) == nil { return false }
        }
        return true
    }

    /// Index of the first clause of `range` contained in `closure`; `-1` for an empty range; nil if none.

    func firstSatisfied(_ range: ClauseRange, _ closure: ScopeSet) -> Int32? {
        if range.isEmpty { return -1 }
        var c = range.lower
        while c < range.upper {
            var ok = true
            var k = Int(clauseBounds[Int(c)])
            let end = Int(clauseBounds[Int(c) + 1])
            while k < end {
                if !closure.contains(clauseIDs[k]) {
                    ok = false
                    break
                }
                k += 1
            }
            if ok { return c }
            c += 1
        }
        return nil
    }

    func evaluate(_ rule: CompiledRule, call: Call, closure: ScopeSet) -> Decision {
        if rule.isPublic { return Decision(allowed: true, reason: .allowed, rule: rule.location) }
        var unsatisfied = firstSatisfied(rule.requirement, closure) == nil
        var notes: [String] = []
        var actionIndex: Int?
        if let extras = rule.extras, let argument = extras.actionArgument {
            guard case .string(let value)? = call.arguments[argument], let index = extras.actions[value] else {
                let got = call.arguments[argument]
                let note: String
                switch got {
                case nil: note = "argument `\(argument)` is missing"
                case .string(let s)?: note = "action `\(s)` is not declared"
                case let other?: note = "argument `\(argument)` is \(other.typeName), not a string"
                }
                return Decision(allowed: false, reason: .unknownAction, rule: rule.location, notes: [note])
            }
            actionIndex = index
            if firstSatisfied(extras.actionList[index].requirement, closure) == nil { unsatisfied = true }
        }
        for w in rule.when where matches(w, call.arguments, notes: &notes) {
            if firstSatisfied(w.requirement, closure) == nil { unsatisfied = true }
        }
        if let actionIndex {
            for w in rule.actionList[actionIndex].when where matches(w, call.arguments, notes: &notes) {
                if firstSatisfied(w.requirement, closure) == nil { unsatisfied = true }
            }
        }
        if !unsatisfied { return Decision(allowed: true, reason: .allowed, rule: rule.location, notes: notes) }
        let parts = effectiveParts(rule, actionIndex: actionIndex, arguments: call.arguments)
        let missing = cheapestCompletion(parts.filter { firstSatisfied($0, closure) == nil }, closure: closure)
        return Decision(allowed: false, reason: .missingScope, rule: rule.location, missing: missing, notes: notes)
    }

    /// The requirement parts (ANDed) that apply to a call of `rule`.
    func effectiveParts(_ rule: CompiledRule, actionIndex: Int?, arguments: [String: JSONValue]) -> [ClauseRange] {
        var parts: [ClauseRange] = []
        var ignoredNotes: [String] = []
        if !rule.requirement.isEmpty { parts.append(rule.requirement) }
        if let actionIndex, !rule.actionList[actionIndex].requirement.isEmpty {
            parts.append(rule.actionList[actionIndex].requirement)
        }
        for w in rule.when where matches(w, arguments, notes: &ignoredNotes) { parts.append(w.requirement) }
        if let actionIndex {
            for w in rule.actionList[actionIndex].when where matches(w, arguments, notes: &ignoredNotes) {
                parts.append(w.requirement)
            }
        }
        return parts
    }

    /// Whether every condition of `w` matches. A present argument of the wrong type counts as matched
    /// (fail closed) and adds a note; an absent one does not match, except for `exists: false`.

    func matches(_ w: CompiledWhen, _ arguments: [String: JSONValue], notes: inout [String]) -> Bool {
        for condition in w.conditions {
            let value = arguments[condition.argument]
            for (i, matcher) in condition.matchers.enumerated() {
                switch ConditionEvaluation.evaluate(matcher, glob: condition.globs[i], value) {
                case .matched: continue
                case .notMatched: return false
                case .wrongType(let found):
                    notes.append(
                        "argument `\(condition.argument)` is \(found) where `\(matcher.name)` expects another type; counted as matched (fail closed)"
                    )
                }
            }
        }
        return true
    }

    /// The cheapest completion over unsatisfied parts: one clause per part, minimizing the privilege added
    /// (weight of the new closure minus the current), then fewest scopes, then lexicographic names.
    /// See ``CompletionSearch``: the work is proportional to the members of the candidate scopes' closures,
    /// never to the size of the policy.
    func cheapestCompletion(_ parts: [ClauseRange], closure: ScopeSet) -> [ScopeID] {
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
    let parts: [ClauseRange]
    let closure: ScopeSet
    /// The current candidate: distinct scope ids, in the order they were added.
    var chosen: [ScopeID] = []
    var best: [ScopeID] = []
    var bestCost = Int.max
    var bestCount = Int.max
    var hasBest = false
    /// Node budget for adversarial policies (then the best found so far, at worst the greedy answer, is returned).
    var budget = 100_000

    init(policy: CompiledPolicy, parts: [ClauseRange], closure: ScopeSet) {
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
            return sortedByName(chosen)
        }
        // Greedy pass first (one part at a time): a good incumbent for pruning, and the answer if the budget runs out.
        for part in parts {
            var partBest: [ScopeID]?
            var partCost = 0
            for c in part.lower..<part.upper {
                let mark = chosen.count
                push(clause: c)
                let cost = addedCost()
                if let current = partBest {
                    if isBetter(cost: cost, count: chosen.count, than: partCost, current.count, current) {
                        partBest = chosen
                        partCost = cost
                    }
                } else {
                    partBest = chosen
                    partCost = cost
                }
                chosen.removeLast(chosen.count - mark)
            }
            if let partBest { chosen = partBest }
        }
        best = chosen
        bestCost = addedCost()
        bestCount = chosen.count
        hasBest = true
        chosen.removeAll(keepingCapacity: true)
        // Exact depth-first search over one clause per part. Adding scopes never lowers the added privilege or the
        // count, so a partial choice already worse on (privilege, count) than the best complete one is abandoned.
        search(0)
        return sortedByName(best)
    }

    func sortedByName(_ ids: [ScopeID]) -> [ScopeID] {
        if ids.count < 2 { return ids }
        return ids.sorted { policy.scopes.name(of: $0).utf8.lexicographicallyPrecedes(policy.scopes.name(of: $1).utf8) }
    }

    mutating func search(_ p: Int) {
        guard budget > 0 else { return }
        budget -= 1
        let cost = addedCost()
        if hasBest && (cost, chosen.count) > (bestCost, bestCount) { return }
        if p == parts.count {
            if isBetter(cost: cost, count: chosen.count, than: bestCost, bestCount, best) {
                best = chosen
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

    /// Strictly better on (privilege, count, sorted names); names are built only on a tie.
    func isBetter(cost: Int, count: Int, than otherCost: Int, _ otherCount: Int, _ other: [ScopeID]) -> Bool {
        if cost != otherCost { return cost < otherCost }
        if count != otherCount { return count < otherCount }
        let a = chosen.map { policy.scopes.name(of: $0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let b = other.map { policy.scopes.name(of: $0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return a.lexicographicallyPrecedes(b, by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }
}

/// Evaluation of one argument matcher.
enum ConditionEvaluation {
    enum Outcome {
        case matched
        case notMatched
        case wrongType(String)
    }

    static func sameType(_ a: JSONValue, _ b: JSONValue) -> Bool { a.typeName == b.typeName }

    static func evaluate(_ matcher: ArgumentMatcher, glob: Glob?, _ value: JSONValue?) -> Outcome {
        if case .exists(let expected) = matcher { return (value != nil) == expected ? .matched : .notMatched }
        guard let value else { return .notMatched }
        switch matcher {
        case .equals(let literal):
            guard sameType(literal, value) else { return .wrongType(value.typeName) }
            if case .number(let a) = literal, case .number(let b) = value {
                return DecimalCompare.compare(a, b) == 0 ? .matched : .notMatched
            }
            return literal == value ? .matched : .notMatched
        case .in(let list), .notIn(let list):
            if let first = list.first, !sameType(first, value) { return .wrongType(value.typeName) }
            let contained = list.contains(value)
            if case .in = matcher { return contained ? .matched : .notMatched }
            return contained ? .notMatched : .matched
        case .gt(let bound), .gte(let bound), .lt(let bound), .lte(let bound):
            guard case .number(let n) = value else { return .wrongType(value.typeName) }
            let ok: Bool
            let order = DecimalCompare.compare(n, bound)
            switch matcher {
            case .gt: ok = order > 0
            case .gte: ok = order >= 0
            case .lt: ok = order < 0
            default: ok = order <= 0
            }
            return ok ? .matched : .notMatched
        case .prefix(let prefix):
            guard case .string(let s) = value else { return .wrongType(value.typeName) }
            return s.hasPrefix(prefix) ? .matched : .notMatched
        case .glob(let pattern):
            guard case .string(let s) = value else { return .wrongType(value.typeName) }
            return (glob ?? Glob(pattern)).matches(s) ? .matched : .notMatched
        case .exists:
            return .matched
        }
    }
}

extension ConditionalRequirement {
    /// Whether every condition matches `arguments` (same semantics as decisions: a present argument of the
    /// wrong type counts as matched and adds a note; an absent one matches only `exists: false`).
    public func matches(_ arguments: [String: JSONValue], notes: inout [String]) -> Bool {
        for condition in conditions {
            for matcher in condition.matchers {
                switch ConditionEvaluation.evaluate(matcher, glob: nil, arguments[condition.argument]) {
                case .matched: continue
                case .notMatched: return false
                case .wrongType(let found):
                    notes.append(
                        "argument `\(condition.argument)` is \(found) where `\(matcher.name)` expects another type; counted as matched (fail closed)"
                    )
                }
            }
        }
        return true
    }
}
