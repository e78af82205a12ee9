extension CompiledPolicy {
    /// Decides a call. Fails closed: unknown tools, actions and methods are denied with a reason.
    /// A grant resolved against another policy version is re-resolved from its strings first.
    ///
    /// Inlined into the caller, which then passes the call's three parts as separate arguments: a ``Call`` is five
    /// words, passed by address, and a caller that reads it from memory it does not own (an array, an object)
    /// would otherwise copy it first, retaining and releasing its strings and arguments on every decision.
    @inlinable
    public func decide(_ call: Call, grant: Grant) -> Decision {
        decide(method: call.method, name: call.name, arguments: call.arguments, grant: grant)
    }

    @usableFromInline
    func decide(method: String, name: String, arguments: [String: JSONValue], grant: Grant) -> Decision {
        if grant.stamp != stamp {
            return decide(method: method, name: name, arguments: arguments, grant: self.grant(grant.granted))
        }
        return decide(method: method, name: name, arguments: arguments, closure: grant.closure)
    }

    /// ``decide(_:grant:)`` for a grant given as its closure, resolved against this policy (`check --batch`
    /// resolves each line's scopes into one reused set).
    @inline(__always)
    package func decide(_ call: Call, closure: ScopeSet) -> Decision {
        decide(method: call.method, name: call.name, arguments: call.arguments, closure: closure)
    }

    @inline(__always)
    func decide(method: String, name: String, arguments: [String: JSONValue], closure: ScopeSet) -> Decision {
        switch method {
        case "tools/call":
            guard let index = tools.lookup(name) else {
                return Decision(allowed: false, reason: .unknownTool, rule: nil)
            }
            return evaluate(tools.rules[index], arguments: arguments, closure: closure)
        case "resources/read":
            guard let index = resources.lookup(name) else {
                return Decision(allowed: false, reason: .unknownResource, rule: nil)
            }
            return evaluate(resources.rules[index], arguments: arguments, closure: closure)
        case "prompts/get":
            guard let index = prompts.lookup(name) else {
                return Decision(allowed: false, reason: .unknownPrompt, rule: nil)
            }
            return evaluate(prompts.rules[index], arguments: arguments, closure: closure)
        default:
            if let index = methods.lookup(method) {
                return evaluate(methods.rules[index], arguments: arguments, closure: closure)
            }
            if BuiltInMethods.needsOnlyToken(method) {
                return Decision(allowed: true, reason: .allowed, rule: nil)
            }
            return Decision(allowed: false, reason: .unknownMethod, rule: nil)
        }
    }

    /// Whether `call` is allowed: exactly `decide(call, grant: grant).allowed`, without building the
    /// ``Decision`` (no reason, notes or cheapest completion). It stops at the first unsatisfied part, so a
    /// denial costs no more than an allow. For yes/no questions — filtering `tools/list`, pre-checks, batch
    /// answers that need no challenge; call ``decide(_:grant:)`` when the reason or `missing` is needed.
    /// Inlined for the reason ``decide(_:grant:)`` is.
    @inlinable
    public func isAllowed(_ call: Call, grant: Grant) -> Bool {
        isAllowed(method: call.method, name: call.name, arguments: call.arguments, grant: grant)
    }

    @usableFromInline
    func isAllowed(method: String, name: String, arguments: [String: JSONValue], grant: Grant) -> Bool {
        if grant.stamp != stamp {
            return isAllowed(method: method, name: name, arguments: arguments, grant: self.grant(grant.granted))
        }
        guard let rule = resolveRule(method: method, name: name) else {
            switch method {
            case "tools/call", "resources/read", "prompts/get": return false  // unknown tool, resource or prompt
            default: return BuiltInMethods.needsOnlyToken(method)
            }
        }
        return allows(rule, arguments: arguments, closure: grant.closure)
    }

    /// ``evaluate(_:arguments:closure:)``'s answer alone: every applicable part has a satisfied clause (and a
    /// declared action, when the rule has actions). Stops at the first unsatisfied part.
    func allows(_ rule: CompiledRule, arguments: [String: JSONValue], closure: ScopeSet) -> Bool {
        if rule.isPublic { return true }
        let action: Int?
        switch selectAction(of: rule, arguments) {
        case .noActions: action = nil
        case .declared(let index): action = index
        case .undeclared: return false
        }
        var notes: [String] = []  // wrong-typed arguments count as matched (fail closed); the notes are dropped
        return forEachPart(of: rule, action: action, arguments: arguments, notes: &notes) { part, _ in
            firstSatisfied(part, closure) != nil
        }
    }

    /// The decision for a call that resolved to `rule`: allowed when every applicable part has a satisfied
    /// clause; otherwise the cheapest completion of the unsatisfied parts.
    func evaluate(_ rule: CompiledRule, arguments: [String: JSONValue], closure: ScopeSet) -> Decision {
        if rule.isPublic { return Decision(allowed: true, reason: .allowed, rule: rule.location) }
        let action: Int?
        switch selectAction(of: rule, arguments) {
        case .noActions: action = nil
        case .declared(let index): action = index
        case .undeclared:
            return Decision(
                allowed: false, reason: .unknownAction, rule: rule.location,
                notes: [Self.undeclaredActionNote(rule, arguments)])
        }
        // First the allow path's walk, which stops at the first unsatisfied part and allocates nothing.
        var notes: [String] = []
        let satisfied = forEachPart(of: rule, action: action, arguments: arguments, notes: &notes) { part, _ in
            firstSatisfied(part, closure) != nil
        }
        if satisfied { return Decision(allowed: true, reason: .allowed, rule: rule.location, notes: notes) }
        return denial(rule, action: action, arguments: arguments, closure: closure)
    }

    /// The denial of a call that has an unsatisfied part: a second walk gathers every unsatisfied part, on the stack
    /// (so a denial allocates only its `missing`), for the cheapest completion. A call has at most its rule's
    /// `requires`, its action's, and one part per `when` entry of each.
    private func denial(
        _ rule: CompiledRule, action: Int?, arguments: [String: JSONValue], closure: ScopeSet
    ) -> Decision {
        var notes: [String] = []
        let bound = 2 + rule.when.count + (action.map { rule.actionList[$0].when.count } ?? 0)
        return withUnsafeTemporaryAllocation(of: ClauseRange.self, capacity: bound) { unmet in
            var count = 0
            _ = forEachPart(of: rule, action: action, arguments: arguments, notes: &notes) { part, _ in
                if firstSatisfied(part, closure) == nil, count < unmet.count {
                    unmet.initializeElement(at: count, to: part)
                    count += 1
                }
                return true
            }
            let missing = cheapestCompletion(UnsafeBufferPointer(rebasing: unmet[0..<count]), closure: closure)
            return Decision(
                allowed: false, reason: .missingScope, rule: rule.location, missing: missing, notes: notes)
        }
    }

    /// Why a call of a rule with actions names no declared action.
    static func undeclaredActionNote(_ rule: CompiledRule, _ arguments: [String: JSONValue]) -> String {
        let argument = rule.actionArgument ?? "action"
        switch arguments[argument] {
        case nil: return "argument `\(argument)` is missing"
        case .string(let s)?: return "action `\(s)` is not declared"
        case let other?: return "argument `\(argument)` is \(other.typeName), not a string"
        }
    }
}
