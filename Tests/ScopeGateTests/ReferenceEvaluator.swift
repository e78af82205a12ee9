import Foundation

@testable import ScopeGate

/// A deliberately naive evaluator of the policy semantics in docs/policy-reference.md, working from the validated
/// ``PolicyModel``'s plain strings: no interning, no bitsets, no precomputed closures or sorted globs.
/// Everything is recomputed per call by walking strings, so it shares no code path with the compiled
/// matcher beyond the model itself and the table of built-in methods, ``BuiltInMethods`` (the differential tests
/// compare the two).
struct ReferenceEvaluator {
    let model: PolicyModel

    /// What the reference decides, plus the semantic rules the evaluation exercised (for coverage counts).
    struct Outcome: CustomStringConvertible {
        var allowed: Bool
        var reason: String
        /// For `missing_scope`: the cheapest completion, sorted by UTF-8.
        var missing: [String]
        var tags: Set<String>

        var description: String { "allowed=\(allowed) reason=\(reason) missing=\(missing)" }
    }

    // MARK: scopes

    func definition(_ name: String) -> ScopeDefinition? { model.scopes.first { $0.name == name } }

    static func isWildcardName(_ name: String) -> Bool { name == "*" || name.hasSuffix(":*") }

    /// Direct successors in the implication graph: `implies`, `deprecated.use`, and for `p:*` every defined
    /// concrete scope whose name starts with `p:` (computed from the names, not from `covers`).
    func successors(_ name: String) -> [String] {
        guard let def = definition(name) else { return [] }
        var out = def.implies
        if let use = def.deprecatedUse { out.append(use) }
        if Self.isWildcardName(name) {
            let prefix = String(name.dropLast())
            out += model.scopes.filter { !Self.isWildcardName($0.name) && $0.name.hasPrefix(prefix) }.map(\.name)
        }
        return out
    }

    /// Every defined scope reachable from `start` (itself included); undefined names contribute nothing.
    func closure(_ start: Set<String>) -> Set<String> {
        var seen = Set<String>()
        var work = Array(start)
        while let name = work.popLast() {
            guard definition(name) != nil, seen.insert(name).inserted else { continue }
            work += successors(name)
        }
        return seen
    }

    func weight(_ set: Set<String>) -> Int { set.reduce(0) { $0 + (definition($1)?.risk.weight ?? 0) } }

    /// The granted strings that name a defined scope (exact string match); everything else grants nothing.
    func held(_ granted: [String]) -> Set<String> { Set(granted.filter { definition($0) != nil }) }

    // MARK: requirements

    /// OR-of-AND expansion of an expression, unnormalized (duplicates and supersets kept).
    static func clauses(_ expression: RequirementExpression) -> [Set<String>] {
        switch expression {
        case .scope(let name, _): return [[name]]
        case .any(let items, _): return items.flatMap { clauses($0) }
        case .all(let items, _):
            return items.reduce([Set<String>()]) { acc, item in
                let sub = clauses(item)
                return acc.flatMap { a in sub.map { a.union($0) } }
            }
        }
    }

    // MARK: globs

    /// `*` matches any run of bytes (possibly empty); everything else matches itself. Plain recursion.
    static func globMatches(_ pattern: String, _ name: String) -> Bool {
        let p = Array(pattern.utf8)
        let s = Array(name.utf8)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == s.count }
            if p[i] == UInt8(ascii: "*") { return match(i + 1, j) || (j < s.count && match(i, j + 1)) }
            return j < s.count && p[i] == s[j] && match(i + 1, j + 1)
        }
        return match(0, 0)
    }

    /// (literal prefix length, literal count, star count), bytes.
    static func specificity(_ pattern: String) -> (Int, Int, Int) {
        let bytes = Array(pattern.utf8)
        let star = UInt8(ascii: "*")
        let prefix = bytes.firstIndex(of: star) ?? bytes.count
        let stars = bytes.filter { $0 == star }.count
        return (prefix, bytes.count - stars, stars)
    }

    static func moreSpecific(_ a: String, than b: String) -> Bool {
        let x = specificity(a)
        let y = specificity(b)
        if x.0 != y.0 { return x.0 > y.0 }
        if x.1 != y.1 { return x.1 > y.1 }
        return x.2 < y.2
    }

    /// Exact pattern first; otherwise the most specific matching glob (first declared on a full tie).
    /// Returns the index and how many globs matched.
    static func resolve(_ name: String, patterns: [String]) -> (index: Int, exact: Bool, matchingGlobs: Int)? {
        if let i = patterns.firstIndex(where: { !$0.contains("*") && $0 == name }) { return (i, true, 0) }
        var best: Int?
        var count = 0
        for (i, pattern) in patterns.enumerated() where pattern.contains("*") && globMatches(pattern, name) {
            count += 1
            if let b = best, !moreSpecific(pattern, than: patterns[b]) { continue }
            best = i
        }
        return best.map { ($0, false, count) }
    }

    // MARK: conditions

    enum MatchOutcome { case matched, notMatched, wrongType }

    static func kind(_ v: JSONValue) -> Int {
        switch v {
        case .null: 0
        case .bool: 1
        case .number: 2
        case .string: 3
        case .array: 4
        case .object: 5
        }
    }

    static func evaluate(_ matcher: ArgumentMatcher, _ value: JSONValue?) -> MatchOutcome {
        if case .exists(let expected) = matcher { return (value != nil) == expected ? .matched : .notMatched }
        guard let value else { return .notMatched }
        func number(_ test: (Decimal) -> Bool) -> MatchOutcome {
            guard case .number(let n) = value else { return .wrongType }
            return test(n) ? .matched : .notMatched
        }
        func text(_ test: (String) -> Bool) -> MatchOutcome {
            guard case .string(let s) = value else { return .wrongType }
            return test(s) ? .matched : .notMatched
        }
        switch matcher {
        case .equals(let literal):
            if kind(literal) != kind(value) { return .wrongType }
            return literal == value ? .matched : .notMatched
        case .in(let list):
            if let first = list.first, kind(first) != kind(value) { return .wrongType }
            return list.contains(value) ? .matched : .notMatched
        case .notIn(let list):
            if let first = list.first, kind(first) != kind(value) { return .wrongType }
            return list.contains(value) ? .notMatched : .matched
        case .gt(let b): return number { $0 > b }
        case .gte(let b): return number { $0 >= b }
        case .lt(let b): return number { $0 < b }
        case .lte(let b): return number { $0 <= b }
        case .prefix(let p): return text { $0.hasPrefix(p) }
        case .glob(let g): return text { globMatches(g, $0) }
        case .exists: return .matched
        }
    }

    /// Whether every matcher of every condition matches (all evaluated, for the coverage tags).
    static func whenMatches(_ w: ConditionalRequirement, _ arguments: [String: JSONValue], tags: inout Set<String>)
        -> Bool
    {
        var all = true
        for condition in w.conditions {
            let value = arguments[condition.argument]
            for matcher in condition.matchers {
                let outcome = evaluate(matcher, value)
                tags.insert("when.\(matcher.name)")
                if value == nil { tags.insert("when.absent") }
                switch outcome {
                case .matched: break
                case .notMatched: all = false
                case .wrongType: tags.insert("when.wrong_type")
                }
            }
        }
        tags.insert(all ? "when.matched" : "when.not_matched")
        return all
    }

    // MARK: decisions

    func decide(_ call: Call, granted: [String]) -> Outcome {
        var tags = Set<String>()
        let held = held(granted)
        for s in granted where definition(s) == nil {
            tags.insert(Self.isWildcardName(s) ? "grant.wildcard.undefined" : "grant.unknown")
        }
        if held.contains(where: Self.isWildcardName) { tags.insert("grant.wildcard.defined") }
        if held.contains(where: { definition($0)?.deprecatedUse != nil }) { tags.insert("grant.deprecated") }

        switch call.method {
        case "tools/call":
            guard let r = Self.resolve(call.name, patterns: model.tools.map(\.pattern)) else {
                tags.insert("tool.unknown")
                return Outcome(allowed: false, reason: "unknown_tool", missing: [], tags: tags)
            }
            tags.insert(r.exact ? "tool.exact" : "tool.glob")
            if r.matchingGlobs > 1 { tags.insert("tool.glob.ordering") }
            return evaluateTool(model.tools[r.index], call: call, held: held, tags: tags)
        case "resources/read", "prompts/get":
            let isResource = call.method == "resources/read"
            let rules = isResource ? model.resources : model.prompts
            let label = isResource ? "resource" : "prompt"
            guard let r = Self.resolve(call.name, patterns: rules.map(\.pattern)) else {
                tags.insert("\(label).unknown")
                return Outcome(allowed: false, reason: "unknown_\(label)", missing: [], tags: tags)
            }
            tags.insert("\(label).rule")
            let rule = rules[r.index]
            return evaluateParts(
                isPublic: rule.isPublic, parts: rule.requirement.map { [Self.clauses($0.expression)] } ?? [],
                held: held, tags: tags)
        default:
            if let r = Self.resolve(call.method, patterns: model.methods.map(\.pattern)) {
                tags.insert("method.rule")
                let rule = model.methods[r.index]
                return evaluateParts(
                    isPublic: rule.isPublic, parts: rule.requirement.map { [Self.clauses($0.expression)] } ?? [],
                    held: held, tags: tags)
            }
            if BuiltInMethods.needsOnlyToken(call.method) {
                tags.insert("method.builtin")
                return Outcome(allowed: true, reason: "allowed", missing: [], tags: tags)
            }
            tags.insert("method.unknown")
            return Outcome(allowed: false, reason: "unknown_method", missing: [], tags: tags)
        }
    }

    func evaluateTool(_ tool: ToolRule, call: Call, held: Set<String>, tags: Set<String>) -> Outcome {
        var tags = tags
        if tool.isPublic {
            tags.insert("tool.public")
            return Outcome(allowed: true, reason: "allowed", missing: [], tags: tags)
        }
        var parts: [[Set<String>]] = []
        if let r = tool.requirement { parts.append(Self.clauses(r.expression)) }
        var action: ActionRule?
        if let actions = tool.actions {
            let argument = tool.actionArgument ?? "action"
            switch call.arguments[argument] {
            case .string(let value)?:
                action = actions.first { $0.name == value }
                if action == nil { tags.insert("action.unknown.undeclared") }
            case nil: tags.insert("action.unknown.missing")
            case _?: tags.insert("action.unknown.non_string")
            }
            guard let action else {
                tags.insert("action.unknown")
                return Outcome(allowed: false, reason: "unknown_action", missing: [], tags: tags)
            }
            tags.insert("action.ok")
            if let r = action.requirement { parts.append(Self.clauses(r.expression)) }
        }
        for w in tool.when where Self.whenMatches(w, call.arguments, tags: &tags) {
            parts.append(Self.clauses(w.requirement.expression))
        }
        for w in action?.when ?? [] where Self.whenMatches(w, call.arguments, tags: &tags) {
            tags.insert("when.in_action")
            parts.append(Self.clauses(w.requirement.expression))
        }
        return evaluateParts(isPublic: false, parts: parts, held: held, tags: tags)
    }

    /// Allowed iff every part has a clause inside the closure; otherwise the brute-force cheapest completion.
    func evaluateParts(isPublic: Bool, parts: [[Set<String>]], held: Set<String>, tags: Set<String>) -> Outcome {
        var tags = tags
        if isPublic {
            tags.insert("rule.public")
            return Outcome(allowed: true, reason: "allowed", missing: [], tags: tags)
        }
        let closure = closure(held)
        for part in parts {
            if part.count > 1 { tags.insert("req.any") }
            if part.contains(where: { $0.count > 1 }) { tags.insert("req.all") }
            if part.contains(where: { !$0.intersection(closure).subtracting(held).isEmpty }) {
                tags.insert("closure.via_hierarchy")
            }
        }
        let unsatisfied = parts.filter { part in !part.contains { $0.isSubset(of: closure) } }
        if unsatisfied.isEmpty {
            tags.insert("decision.allowed")
            return Outcome(allowed: true, reason: "allowed", missing: [], tags: tags)
        }
        tags.insert("decision.missing_scope")
        if unsatisfied.count > 1 { tags.insert("decision.missing.multi_part") }
        if unsatisfied.contains(where: { $0.count > 1 }) { tags.insert("decision.missing.choice") }
        return Outcome(
            allowed: false, reason: "missing_scope",
            missing: cheapestCompletion(unsatisfied, held: held, closure: closure),
            tags: tags)
    }

    /// Enumerates one clause per unsatisfied part; minimizes (marginal privilege, scope count, sorted names by UTF-8).
    func cheapestCompletion(_ parts: [[Set<String>]], held: Set<String>, closure: Set<String>) -> [String] {
        let base = weight(closure)
        var best: (cost: Int, count: Int, names: [String])?
        func utf8Less(_ a: [String], _ b: [String]) -> Bool {
            a.lexicographicallyPrecedes(b) { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        }
        func visit(_ k: Int, _ added: Set<String>) {
            if k == parts.count {
                let cost = weight(self.closure(held.union(added))) - base
                let names = added.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                if let b = best {
                    if cost > b.cost { return }
                    if cost == b.cost && names.count > b.count { return }
                    if cost == b.cost && names.count == b.count && !utf8Less(names, b.names) { return }
                }
                best = (cost, names.count, names)
                return
            }
            for clause in parts[k] { visit(k + 1, added.union(clause.subtracting(closure))) }
        }
        visit(0, [])
        return best?.names ?? []
    }
}
