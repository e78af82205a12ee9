// The requirement parts of a rule that apply to a call, and which of their clauses a grant satisfies. Every
// question about a call's requirement — allowed?, what is missing?, which clause was used?, explain it — walks the
// parts through ``CompiledPolicy/forEachPart(of:action:arguments:notes:_:)``.

/// Where a requirement part comes from, by index (the walk copies no strings).
enum PartSource: Equatable {
    /// The rule's own `requires`.
    case requires
    /// The selected action's `requires`.
    case action
    /// The rule's `when` entry at this index.
    case ruleWhen(Int)
    /// The selected action's `when` entry at this index.
    case actionWhen(Int)
}

/// The action a call of a rule selects through its action argument.
enum ActionSelection {
    /// The rule has no `actions`.
    case noActions
    /// Index into ``CompiledRule/actionList``.
    case declared(Int)
    /// The rule has actions, and the argument is missing, not a string or not a declared action (deny).
    case undeclared

    var index: Int? {
        if case .declared(let index) = self { return index }
        return nil
    }
}

extension CompiledPolicy {
    /// The rule a call resolves to (nil for built-in methods and unknown names).
    func resolveRule(_ call: Call) -> CompiledRule? { resolveRule(method: call.method, name: call.name) }

    /// The rule a call of `method` on `name` resolves to.
    func resolveRule(method: String, name: String) -> CompiledRule? {
        switch method {
        case "tools/call": return tools.lookup(name).map { tools.rules[$0] }
        case "resources/read": return resources.lookup(name).map { resources.rules[$0] }
        case "prompts/get": return prompts.lookup(name).map { prompts.rules[$0] }
        default: return methods.lookup(method).map { methods.rules[$0] }
        }
    }

    /// The action `arguments` select on `rule`.
    @inline(__always)
    func selectAction(of rule: CompiledRule, _ arguments: [String: JSONValue]) -> ActionSelection {
        guard let extras = rule.extras, let argument = extras.actionArgument else { return .noActions }
        guard case .string(let value)? = arguments.value(named: argument), let index = extras.action(named: value)
        else {
            return .undeclared
        }
        return .declared(index)
    }

    /// Visits the requirement parts (ANDed) that apply to a call of `rule` with `action` selected, in order: the
    /// rule's `requires`, the action's `requires`, the rule's matching `when` entries, the action's matching `when`
    /// entries. Empty requirements are skipped. `visit` returns false to stop; the result is false when it did.
    /// Conditions on wrong-typed arguments count as matched (fail closed) and append to `notes`.
    ///
    /// Inlined so the allow path (``allows(_:arguments:closure:)``) stays a few compares with no call or allocation.
    @inline(__always)
    func forEachPart(
        of rule: CompiledRule, action: Int?, arguments: [String: JSONValue], notes: inout [String],
        _ visit: (ClauseRange, PartSource) -> Bool
    ) -> Bool {
        if !rule.requirement.isEmpty, !visit(rule.requirement, .requires) { return false }
        // The selected action, copied once (its requirement and `when` list are read below).
        let selected = action.flatMap { rule.extras?.actionList[$0] }
        if let selected, !selected.requirement.isEmpty, !visit(selected.requirement, .action) { return false }
        if !rule.when.isEmpty, !Self.forEachPart(of: rule.when, PartSource.ruleWhen, arguments, &notes, visit) {
            return false
        }
        if let selected, !selected.when.isEmpty,
            !Self.forEachPart(of: selected.when, PartSource.actionWhen, arguments, &notes, visit)
        {
            return false
        }
        return true
    }

    /// The `when` entries of `when` whose conditions match, in order, read in place: copying an entry out of the
    /// array retains and releases its tests and its location's file name.
    @inline(__always)
    static func forEachPart(
        of when: [CompiledWhen], _ source: (Int) -> PartSource, _ arguments: [String: JSONValue],
        _ notes: inout [String], _ visit: (ClauseRange, PartSource) -> Bool
    ) -> Bool {
        when.withUnsafeBufferPointer { when in
            for i in when.indices where when[i].matches(arguments, notes: &notes) {
                if !when[i].requirement.isEmpty, !visit(when[i].requirement, source(i)) { return false }
            }
            return true
        }
    }

    /// Index of the first clause of `range` contained in `closure`; `-1` for an empty range; nil if none.
    func firstSatisfied(_ range: ClauseRange, _ closure: ScopeSet) -> Int32? {
        if range.isEmpty { return -1 }
        if range.singleScopePlusOne != 0 { return closure.contains(range.singleScopePlusOne &- 1) ? range.lower : nil }
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
}
