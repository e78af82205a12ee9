/// A step-by-step account of a decision, for `check --explain` and logs.
///
/// ```swift
/// let explanation = policy.explain(.tool("delete_repo"), grant: policy.grant(["admin:org"]))
/// for line in explanation.lines { print(line) }
/// // matched rule `delete_repo` at policy.yaml:12:3
/// // requires: [admin:org] — satisfied by [admin:org]
/// // ALLOW
/// ```
public struct Explanation: Sendable, Hashable {
    /// One requirement part that applies to the call.
    public struct Part: Sendable, Hashable {
        /// `requires`, `action <name>`, `when <conditions>`.
        public var source: String
        public var clauses: [[String]]
        /// Index of the satisfied clause, if any.
        public var satisfied: Int?
        /// For each scope of the satisfied clause that the grant holds only through implication, the chain from a
        /// granted scope to it, e.g. `["admin:org", "write:org", "read:org"]`.
        public var implied: [[String]] = []
    }
    public var rule: String?
    public var parts: [Part]
    public var ignored: [Grant.Ignored]
    public var notes: [String]
    public var lines: [String]
}

extension CompiledPolicy {
    /// The explanation of a decision (recomputes the details the fast path skipped).
    public func explain(_ call: Call, grant: Grant) -> Explanation {
        let grant = grant.stamp == stamp ? grant : self.grant(grant.granted)
        let decision = decide(call, grant: grant)
        var parts: [Explanation.Part] = []
        var lines: [String] = []
        let rule = decision.rule?.description
        let key =
            call.method == "tools/call" || call.method == "resources/read" || call.method == "prompts/get"
            ? call.name : call.method
        if let r = resolveRule(call) {
            let pattern = self.pattern(of: r, method: call.method)
            lines.append("matched rule `\(pattern)` at \(r.location)" + (pattern.contains("*") ? " (glob)" : ""))
            if r.isPublic { lines.append("the rule is public: any valid token may call it") }
            let action = selectAction(of: r, call.arguments).index
            let granted = grantedIDs(grant)
            var notes: [String] = []  // the decision's notes are listed below
            _ = forEachPart(of: r, action: action, arguments: call.arguments, notes: &notes) { range, source in
                let label: String
                switch source {
                case .requires: label = "requires"
                case .action: label = "action `\(action.map { r.actionList[$0].name } ?? "")`"
                case .ruleWhen(let i): label = "when (\(r.when[i].location))"
                case .actionWhen(let i):
                    label = "when (\(action.map { r.actionList[$0].when[i].location.description } ?? ""))"
                }
                let clauses = (range.lower..<range.upper).map { clauseNames(Int($0)) }
                let sat = firstSatisfied(range, grant.closure).map { Int($0 - range.lower) }
                let implied: [[String]] =
                    sat.map { s in
                        clause(Int(range.lower) + s).compactMap { implicationPath(to: $0, from: granted).map(names) }
                    } ?? []
                parts.append(.init(source: label, clauses: clauses, satisfied: sat, implied: implied))
                let text = clauses.map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " or ")
                let via = implied.map { $0.joined(separator: " ⇒ ") }.joined(separator: ", ")
                lines.append(
                    "\(label): \(text) — "
                        + (sat.map { "satisfied by [\(clauses[$0].joined(separator: " "))]" } ?? "not satisfied")
                        + (via.isEmpty ? "" : " via \(via)"))
                return true
            }
        } else if decision.allowed {
            lines.append("`\(call.method)` needs only a valid token")
        } else {
            lines.append("no rule matches `\(key)`: denied (\(decision.reason))")
        }
        for i in grant.ignored {
            lines.append(
                "ignored granted `\(i.scope)`: \(i.why.replacingOccurrences(of: "_", with: " "))"
                    + (i.hint.map { "; \($0)" } ?? ""))
        }
        lines += decision.notes
        if !decision.missing.isEmpty {
            lines.append("missing (cheapest completion): " + names(decision.missing).joined(separator: " "))
        }
        lines.append(decision.allowed ? "ALLOW" : "DENY \(decision.reason)")
        return Explanation(rule: rule, parts: parts, ignored: grant.ignored, notes: decision.notes, lines: lines)
    }
}

extension CompiledPolicy {
    /// The defined scopes a grant names directly: its recognized strings, with the prefixes the policy's issuers
    /// strip removed.
    func grantedIDs(_ grant: Grant) -> [ScopeID] {
        let prefixes = (model.tokens?.issuers ?? []).flatMap(\.stripPrefixes)
        return grant.recognized.compactMap { scopes.index.lookup(Grant.unprefixed($0, stripping: prefixes)) }
    }

    /// The shortest chain of direct implications (`implies`, or a wildcard covering a scope) from one of `granted`
    /// to `target`, both ends included: `[admin:org, write:org, read:org]`. Nil when `target` is granted itself or
    /// no chain reaches it. Scope ids are positions in `model.scopes`.
    func implicationPath(to target: ScopeID, from granted: [ScopeID]) -> [ScopeID]? {
        if granted.contains(target) { return nil }
        var parent: [ScopeID: ScopeID] = [:]
        var seen = Set(granted)
        var queue = granted
        var head = 0
        while head < queue.count {
            let node = queue[head]
            head += 1
            let definition = model.scopes[Int(node)]
            for name in definition.implies + (definition.isWildcard ? definition.covers : []) {
                guard let next = scopes.id(name), seen.insert(next).inserted else { continue }
                parent[next] = node
                if next == target {
                    var path = [target]
                    var step = target
                    while let previous = parent[step] {
                        path.append(previous)
                        step = previous
                    }
                    return path.reversed()
                }
                queue.append(next)
            }
        }
        return nil
    }

    /// The pattern a rule was written with, from the model section that `method` routes to.
    func pattern(of rule: CompiledRule, method: String) -> String {
        switch method {
        case "tools/call": model.tools[rule.modelIndex].pattern
        case "resources/read": model.resources[rule.modelIndex].pattern
        case "prompts/get": model.prompts[rule.modelIndex].pattern
        default: model.methods[rule.modelIndex].pattern
        }
    }
}
