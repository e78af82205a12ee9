/// A step-by-step account of a decision, for `check --explain` and logs.
public struct Explanation: Sendable, Hashable {
    public struct Part: Sendable, Hashable {
        /// `requires`, `action <name>`, `when <conditions>`.
        public var source: String
        public var clauses: [[String]]
        /// Index of the satisfied clause, if any.
        public var satisfied: Int?
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
        let table: RuleTable? =
            switch call.method {
            case "tools/call": tools
            case "resources/read": resources
            case "prompts/get": prompts
            default: methods.lookup(call.method) != nil ? methods : nil
            }
        let key =
            call.method == "tools/call" || call.method == "resources/read" || call.method == "prompts/get"
            ? call.name : call.method
        if let table, let index = table.lookup(key) {
            let r = table.rules[index]
            let pattern: String
            switch call.method {
            case "tools/call": pattern = model.tools[r.modelIndex].pattern
            case "resources/read": pattern = model.resources[r.modelIndex].pattern
            case "prompts/get": pattern = model.prompts[r.modelIndex].pattern
            default: pattern = model.methods[r.modelIndex].pattern
            }
            lines.append("matched rule `\(pattern)` at \(r.location)" + (pattern.contains("*") ? " (glob)" : ""))
            if r.isPublic { lines.append("the rule is public: any valid token may call it") }
            func part(_ source: String, _ range: ClauseRange) {
                guard !range.isEmpty else { return }
                let clauses = (range.lower..<range.upper).map { clauseNames(Int($0)) }
                let sat = firstSatisfied(range, grant.closure).map { Int($0 - range.lower) }
                parts.append(.init(source: source, clauses: clauses, satisfied: sat))
                let text = clauses.map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " or ")
                lines.append(
                    "\(source): \(text) — "
                        + (sat.map { "satisfied by [\(clauses[$0].joined(separator: " "))]" } ?? "not satisfied"))
            }
            part("requires", r.requirement)
            var notes: [String] = []
            var actionIndex: Int?
            if let argument = r.actionArgument, case .string(let value)? = call.arguments[argument],
                let i = r.actions[value]
            {
                actionIndex = i
                part("action `\(value)`", r.actionList[i].requirement)
            }
            for w in r.when where matches(w, call.arguments, notes: &notes) {
                part("when (\(w.location))", w.requirement)
            }
            if let actionIndex {
                for w in r.actionList[actionIndex].when where matches(w, call.arguments, notes: &notes) {
                    part("when (\(w.location))", w.requirement)
                }
            }
        } else if decision.allowed {
            lines.append("`\(call.method)` needs only a valid token")
        } else {
            lines.append("no rule matches `\(key)`: denied (\(decision.reason))")
        }
        for i in grant.ignored {
            lines.append("ignored granted `\(i.scope)`: \(i.why.replacingOccurrences(of: "_", with: " "))")
        }
        lines += decision.notes
        if !decision.missing.isEmpty {
            lines.append("missing (cheapest completion): " + names(decision.missing).joined(separator: " "))
        }
        lines.append(decision.allowed ? "ALLOW" : "DENY \(decision.reason)")
        return Explanation(rule: rule, parts: parts, ignored: grant.ignored, notes: decision.notes, lines: lines)
    }
}
