import Foundation

/// Pass 4, tools: requirements to DNF clauses; tool, resource and prompt globs (validity, ambiguity,
/// shadowing); actions; conditions.
enum ToolsPass {
    static let maxClauses = 1024

    static func run(_ state: inout CompilerState) {
        normalizeRequirements(&state)
        checkTools(&state)
        checkGlobs(state.model.tools, kind: "tool", &state)
        checkGlobs(state.model.resources, kind: "resource", &state)
        checkGlobs(state.model.prompts, kind: "prompt", &state)
        checkGlobs(state.model.methods, kind: "method", &state)
    }

    // MARK: DNF

    /// OR-of-AND clauses of `expression`, or `nil` when it expands past `maxClauses`.
    static func dnf(_ expression: RequirementExpression) -> [[String]]? {
        switch expression {
        case .scope(let name, _): return [[name]]
        case .any(let items, _):
            // `any` of scopes (the common nesting): one clause per scope, without a `[[name]]` per item.
            if let names = scopeNames(items) {
                if names.count > maxClauses { return nil }
                return normalize(names.map { [$0] })
            }
            var clauses: [[String]] = []
            for item in items {
                guard let sub = dnf(item) else { return nil }
                clauses += sub
                if clauses.count > maxClauses { return nil }
            }
            return normalize(clauses)
        case .all(let items, _):
            // `all` of scopes: the one clause of them all (what the general loop below ends with).
            if let names = scopeNames(items) { return [sortedUnique(names)] }
            var clauses: [[String]] = [[]]
            for item in items {
                guard let sub = dnf(item) else { return nil }
                var next: [[String]] = []
                for a in clauses {
                    for b in sub {
                        next.append(a + b)
                        if next.count > maxClauses { return nil }
                    }
                }
                clauses = normalize(next)
            }
            return clauses
        }
    }

    /// The names of `items` when every item is a single scope, else nil.
    static func scopeNames(_ items: [RequirementExpression]) -> [String]? {
        var names: [String] = []
        names.reserveCapacity(items.count)
        for item in items {
            guard case .scope(let name, _) = item else { return nil }
            names.append(name)
        }
        return names
    }

    /// Sorts and dedupes each clause, sorts clauses (shorter first, then lexicographic), drops supersets.
    ///
    /// Works on sorted arrays (no `Set`s): clauses are sorted and deduplicated in place, equal clauses end up
    /// adjacent after the sort, and a kept clause (never longer than the current one, by the order) is a subset
    /// when a merge walk over the two sorted arrays finds all of it.
    static func normalize(_ clauses: [[String]]) -> [[String]] {
        // One clause of at most one scope (a requirement naming a single scope, the common case) is already normal.
        if clauses.count == 1, clauses[0].count <= 1 { return clauses }
        var sortedClauses = clauses.map(sortedUnique)
        sortedClauses.sort { a, b in a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b) }
        var kept: [[String]] = []
        kept.reserveCapacity(sortedClauses.count)
        var shorter = 0  // kept[0..<shorter] are the kept clauses shorter than the current one
        for clause in sortedClauses {
            while shorter < kept.count, kept[shorter].count < clause.count { shorter += 1 }
            if let last = kept.last, last == clause { continue }
            if kept[0..<shorter].contains(where: { isSortedSubset($0, of: clause) }) { continue }
            kept.append(clause)
        }
        return kept
    }

    /// The clause's scopes sorted, each once.
    static func sortedUnique(_ clause: [String]) -> [String] {
        if clause.count <= 1 { return clause }
        var s = clause.sorted()
        var w = 1
        for r in 1..<s.count where s[r] != s[w - 1] {
            s[w] = s[r]
            w += 1
        }
        s.removeLast(s.count - w)
        return s
    }

    /// Whether every element of sorted `a` is in sorted `b`.
    static func isSortedSubset(_ a: [String], of b: [String]) -> Bool {
        var j = 0
        for x in a {
            while j < b.count, b[j] < x { j += 1 }
            guard j < b.count, b[j] == x else { return false }
            j += 1
        }
        return true
    }

    static func normalize(_ requirement: inout Requirement?, _ state: inout CompilerState) {
        guard var r = requirement else { return }
        guard let clauses = dnf(r.expression) else {
            state.report(
                .requirementTooLarge, "requirement expands to more than \(maxClauses) alternatives", at: r.location,
                help: "simplify the nesting of `all`/`any`, or introduce a scope that implies the common parts")
            // Keep the requirement with no clauses (never satisfied; the model is rejected anyway) so that
            // `checkTools` does not also report the tool as having no requirement (SG409).
            r.clauses = []
            requirement = r
            return
        }
        r.clauses = clauses
        requirement = r
    }

    static func normalize(_ when: inout [ConditionalRequirement], _ state: inout CompilerState) {
        for i in when.indices {
            var r: Requirement? = when[i].requirement
            normalize(&r, &state)
            if let r { when[i].requirement = r }
        }
    }

    static func normalizeRequirements(_ state: inout CompilerState) {
        // Taken out of the model while it is changed, so the array stays uniquely referenced and is not copied.
        var tools = state.model.tools
        state.model.tools = []
        for t in tools.indices {
            normalize(&tools[t].requirement, &state)
            normalize(&tools[t].when, &state)
            if var actions = tools[t].actions {
                for a in actions.indices {
                    normalize(&actions[a].requirement, &state)
                    normalize(&actions[a].when, &state)
                }
                tools[t].actions = actions
            }
        }
        state.model.tools = tools
        for keyPath in [\PolicyModel.methods, \PolicyModel.resources, \PolicyModel.prompts] {
            var rules = state.model[keyPath: keyPath]
            state.model[keyPath: keyPath] = []
            for i in rules.indices { normalize(&rules[i].requirement, &state) }
            state.model[keyPath: keyPath] = rules
        }
    }

    // MARK: tools

    static func checkTools(_ state: inout CompilerState) {
        let tools = state.model.tools
        for t in tools.indices {
            // Rules with nothing to check (a plain requirement) are passed over without copying them.
            if !tools[t].isPublic, tools[t].requirement != nil, tools[t].actions == nil, tools[t].when.isEmpty {
                continue
            }
            let tool = tools[t]
            let hasActions = tool.actions != nil
            if tool.isPublic, tool.requirement != nil || hasActions || !tool.when.isEmpty {
                state.report(
                    .conflictingSettings, "tool `\(tool.pattern)` is `public` but also has requirements",
                    at: tool.location, help: "remove `public: true`, or remove `requires`/`actions`/`when`")
            }
            if !tool.isPublic, tool.requirement == nil, !hasActions {
                state.report(
                    .noRequirement, "tool `\(tool.pattern)` has no requirement", at: tool.location,
                    help: "add `requires: <scope>`, or `public: true` if any valid token may call it")
            }
            if let actions = tool.actions, actions.isEmpty {
                state.report(
                    .unsatisfiableRequirement, "tool `\(tool.pattern)` declares no actions, so every call is denied",
                    at: tool.location, help: "list the actions under `actions:`, or remove `actions`")
            }
            if let actions = tool.actions, tool.requirement == nil, actions.contains(where: { $0.requirement == nil }) {
                for action in actions where action.requirement == nil {
                    state.report(
                        .noRequirement, "action `\(action.name)` of `\(tool.pattern)` has no requirement",
                        at: action.location,
                        help: "give the action a scope, or the tool a `requires` shared by all actions")
                }
            }
            for when in tool.when { checkConditions(when, tool: tool.pattern, &state) }
            for action in tool.actions ?? [] {
                for when in action.when { checkConditions(when, tool: tool.pattern, &state) }
            }
        }
    }

    static func checkConditions(_ when: ConditionalRequirement, tool: String, _ state: inout CompilerState) {
        for condition in when.conditions {
            var lower: (Decimal, Bool)?
            var upper: (Decimal, Bool)?  // (bound, inclusive)
            var equalsValues: [JSONValue] = []
            var hasExists: Bool?
            for matcher in condition.matchers {
                switch matcher {
                case .gt(let v): lower = tighterLower(lower, (v, false))
                case .gte(let v): lower = tighterLower(lower, (v, true))
                case .lt(let v): upper = tighterUpper(upper, (v, false))
                case .lte(let v): upper = tighterUpper(upper, (v, true))
                case .equals(let v): equalsValues.append(v)
                case .in(let values) where values.isEmpty:
                    state.report(
                        .neverMatches, "`in: []` on `\(condition.argument)` of `\(tool)` never matches",
                        at: condition.location, help: "list the values that should trigger the requirement")
                case .glob(let pattern) where pattern.isEmpty:
                    state.report(
                        .invalidCondition, "empty glob on `\(condition.argument)`", at: condition.location,
                        help: "use `exists: true` to match any value")
                case .exists(let b): hasExists = b
                default: break
                }
            }
            if let (lo, loInclusive) = lower, let (hi, hiInclusive) = upper,
                lo > hi || (lo == hi && !(loInclusive && hiInclusive))
            {
                state.report(
                    .neverMatches, "the bounds on `\(condition.argument)` of `\(tool)` exclude every number",
                    at: condition.location,
                    help: "a number cannot be both above \(lo) and below \(hi); fix the bounds")
            }
            if Set(equalsValues).count > 1 {
                state.report(
                    .neverMatches, "`\(condition.argument)` of `\(tool)` must equal several different values",
                    at: condition.location, help: "to match any of them write `{in: […]}`")
            }
            if hasExists == false, condition.matchers.count > 1 {
                state.report(
                    .neverMatches,
                    "`exists: false` on `\(condition.argument)` of `\(tool)` excludes its other matchers",
                    at: condition.location, help: "an absent argument matches nothing else; drop the other matchers")
            }
        }
    }

    static func tighterLower(_ a: (Decimal, Bool)?, _ b: (Decimal, Bool)) -> (Decimal, Bool) {
        guard let a else { return b }
        if a.0 != b.0 { return a.0 > b.0 ? a : b }
        return (a.0, a.1 && b.1)
    }

    static func tighterUpper(_ a: (Decimal, Bool)?, _ b: (Decimal, Bool)) -> (Decimal, Bool) {
        guard let a else { return b }
        if a.0 != b.0 { return a.0 < b.0 ? a : b }
        return (a.0, a.1 && b.1)
    }

    // MARK: globs

    static func checkGlobs<Rule: LowerableRule>(_ rules: [Rule], kind: String, _ state: inout CompilerState) {
        for i in rules.indices where rules[i].pattern.isEmpty || hasSpaceOrControl(rules[i].pattern) {
            state.report(
                .invalidGlob, "\(kind) name `\(rules[i].pattern)` is empty or contains white space",
                at: rules[i].location, help: "names and globs are non-empty and contain no spaces")
        }
        let globs = rules.indices.filter { rules[$0].pattern.utf8.contains(UInt8(ascii: "*")) }
            .map { (Glob(rules[$0].pattern), rules[$0].location) }
        for (i, (a, aLoc)) in globs.enumerated() {
            for (b, bLoc) in globs[(i + 1)...] where a.specificity == b.specificity && a.intersects(b) {
                state.report(
                    .ambiguousGlobs, "\(kind) globs `\(a.pattern)` and `\(b.pattern)` are equally specific and overlap",
                    at: bLoc,
                    help:
                        "make one more specific (a longer literal prefix) or merge them; a name like `\(witness(a, b))` matches both",
                    notes: [.init("the other glob", at: aLoc)])
            }
            if let shadow = globs.first(where: {
                $0.0.pattern != a.pattern && a.specificity < $0.0.specificity && $0.0.contains(a)
            }) {
                state.report(
                    .shadowedGlob,
                    "\(kind) glob `\(a.pattern)` is shadowed by `\(shadow.0.pattern)` for every name it matches",
                    at: aLoc, help: "remove `\(a.pattern)`; `\(shadow.0.pattern)` always wins",
                    notes: [.init("the winning glob", at: shadow.1)])
            }
        }
    }

    /// Whether `name` contains white space (Unicode's `White_Space`) or a control character below U+0020. An
    /// ASCII name is checked on its bytes: in ASCII, that is exactly the bytes ≤ 0x20. Other names are checked
    /// scalar by scalar (the Unicode property lookup costs a few percent of compiling 10,000 tools).
    static func hasSpaceOrControl(_ name: String) -> Bool {
        var ascii = true
        for b in name.utf8 {
            if b <= 0x20 { return true }
            if b >= 0x80 {
                ascii = false
                break
            }
        }
        if ascii { return false }
        return name.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
    }

    /// A short name matching both globs (for messages): found by the same search as `intersects`.
    static func witness(_ a: Glob, _ b: Glob) -> String {
        let x = Array(a.pattern.utf8)
        let y = Array(b.pattern.utf8)
        let star = UInt8(ascii: "*")
        var seen = Set<Int>()
        var queue: [(Int, Int, [UInt8])] = [(0, 0, [])]
        var head = 0
        while head < queue.count {
            let (i, j, out) = queue[head]
            head += 1
            if i == x.count && j == y.count { return String(decoding: out, as: UTF8.self) }
            guard seen.insert(i * (y.count + 1) + j).inserted else { continue }
            let xi = i < x.count ? x[i] : nil
            let yj = j < y.count ? y[j] : nil
            if xi == star {
                queue.append((i + 1, j, out))
                if let yj, yj != star { queue.append((i, j + 1, out + [yj])) }
            }
            if yj == star {
                queue.append((i, j + 1, out))
                if let xi, xi != star { queue.append((i + 1, j, out + [xi])) }
            }
            if let xi, let yj, xi != star, yj != star, xi == yj { queue.append((i + 1, j + 1, out + [xi])) }
        }
        return a.pattern
    }
}
