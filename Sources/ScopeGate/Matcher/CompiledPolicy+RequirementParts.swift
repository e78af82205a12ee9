// The requirement parts of a rule that apply to a call, and which of their clauses a grant satisfies.

extension CompiledPolicy {
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

    /// The rule table and rule a call resolves to (nil for built-in methods and unknown names).
    func resolveRule(_ call: Call) -> CompiledRule? {
        switch call.method {
        case "tools/call": return tools.lookup(call.name).map { tools.rules[$0] }
        case "resources/read": return resources.lookup(call.name).map { resources.rules[$0] }
        case "prompts/get": return prompts.lookup(call.name).map { prompts.rules[$0] }
        default: return methods.lookup(call.method).map { methods.rules[$0] }
        }
    }
}
