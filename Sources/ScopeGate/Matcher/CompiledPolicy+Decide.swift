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

}
