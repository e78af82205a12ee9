extension CompiledPolicy {
    /// Decides a call. Fails closed: unknown tools, actions and methods are denied with a reason.
    /// A grant resolved against another policy version is re-resolved from its strings first.
    public func decide(_ call: Call, grant: Grant) -> Decision {
        if grant.stamp != stamp { return decide(call, grant: self.grant(grant.granted)) }
        return decide(call, closure: grant.closure)
    }

    /// ``decide(_:grant:)`` for a grant given as its closure, resolved against this policy (`check --batch`
    /// resolves each line's scopes into one reused set).
    @inline(__always)
    package func decide(_ call: Call, closure: ScopeSet) -> Decision {
        switch call.method {
        case "tools/call":
            guard let index = tools.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownTool, rule: nil)
            }
            return evaluate(tools.rules[index], call: call, closure: closure)
        case "resources/read":
            guard let index = resources.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownResource, rule: nil)
            }
            return evaluate(resources.rules[index], call: call, closure: closure)
        case "prompts/get":
            guard let index = prompts.lookup(call.name) else {
                return Decision(allowed: false, reason: .unknownPrompt, rule: nil)
            }
            return evaluate(prompts.rules[index], call: call, closure: closure)
        default:
            if let index = methods.lookup(call.method) {
                return evaluate(methods.rules[index], call: call, closure: closure)
            }
            if BuiltInMethods.needsOnlyToken(call.method) {
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
            default: return BuiltInMethods.needsOnlyToken(call.method)
            }
        }
        return allows(rule, call: call, closure: grant.closure)
    }

    /// ``evaluate(_:call:closure:)``'s answer alone: every applicable part has a satisfied clause (and a
    /// declared action, when the rule has actions). Stops at the first unsatisfied part.
    func allows(_ rule: CompiledRule, call: Call, closure: ScopeSet) -> Bool {
        if rule.isPublic { return true }
        let action: Int?
        switch selectAction(of: rule, call.arguments) {
        case .noActions: action = nil
        case .declared(let index): action = index
        case .undeclared: return false
        }
        var notes: [String] = []  // wrong-typed arguments count as matched (fail closed); the notes are dropped
        return forEachPart(of: rule, action: action, arguments: call.arguments, notes: &notes) { part, _ in
            firstSatisfied(part, closure) != nil
        }
    }

    /// The decision for a call that resolved to `rule`: allowed when every applicable part has a satisfied
    /// clause; otherwise the cheapest completion of the unsatisfied parts.
    func evaluate(_ rule: CompiledRule, call: Call, closure: ScopeSet) -> Decision {
        if rule.isPublic { return Decision(allowed: true, reason: .allowed, rule: rule.location) }
        let action: Int?
        switch selectAction(of: rule, call.arguments) {
        case .noActions: action = nil
        case .declared(let index): action = index
        case .undeclared:
            return Decision(
                allowed: false, reason: .unknownAction, rule: rule.location,
                notes: [Self.undeclaredActionNote(rule, call.arguments)])
        }
        var notes: [String] = []
        var unmet: [ClauseRange] = []  // stays empty, and unallocated, on the allow path
        _ = forEachPart(of: rule, action: action, arguments: call.arguments, notes: &notes) { part, _ in
            if firstSatisfied(part, closure) == nil { unmet.append(part) }
            return true
        }
        if unmet.isEmpty { return Decision(allowed: true, reason: .allowed, rule: rule.location, notes: notes) }
        let missing = cheapestCompletion(unmet, closure: closure)
        return Decision(allowed: false, reason: .missingScope, rule: rule.location, missing: missing, notes: notes)
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
