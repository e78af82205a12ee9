extension CompiledPolicy {
    /// Names of scope ids.
    public func names(_ ids: [ScopeID]) -> [String] { ids.map { scopes.name(of: $0) } }

    /// Appends to `ids` the scopes of the first satisfied clause of every requirement part that applies to `call`
    /// (the record's `clause`, before the completion is added).
    package func satisfiedClauseIDs(_ call: Call, closure: ScopeSet, into ids: inout [ScopeID]) {
        guard let rule = resolveRule(call), !rule.isPublic else { return }
        let action = selectAction(of: rule, call.arguments).index
        var notes: [String] = []  // the decision carries the notes
        _ = forEachPart(of: rule, action: action, arguments: call.arguments, notes: &notes) { part, _ in
            if let c = firstSatisfied(part, closure), c >= 0 { ids += clause(Int(c)) }
            return true
        }
    }

    /// Renders a decision as a decision record (docs/records.md).
    public func record(
        for decision: Decision, call: Call, grant: Grant, line: Int? = nil, id: String? = nil,
        style: ChallengeScope = .grantedPlusMissing, policyVersion: String? = nil
    ) -> DecisionRecord {
        let grant = grant.stamp == stamp ? grant : self.grant(grant.granted)
        var clause: [String] = []
        if decision.allowed || decision.reason == .missingScope {
            // Allow: the satisfied clause of every part. Deny: satisfied parts plus the completion.
            var ids: [ScopeID] = []
            satisfiedClauseIDs(call, closure: grant.closure, into: &ids)
            clause = names(ids) + names(decision.missing)
        }
        var unique = Set<String>()
        clause = clause.filter { unique.insert($0).inserted }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return DecisionRecord(
            line: line, id: id, allowed: decision.allowed, reason: decision.reason.rawValue,
            rule: decision.rule?.description, clause: clause,
            missing: names(decision.missing), challenge: challenge(for: decision, grant: grant, style: style),
            ignored: grant.ignored, notes: decision.notes, policyVersion: policyVersion)
    }
}
