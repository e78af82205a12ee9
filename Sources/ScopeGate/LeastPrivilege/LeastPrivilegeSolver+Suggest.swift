extension LeastPrivilegeSolver {
    /// Suggests a least-privilege grant for one client's observed usage: every distinct `required` clause of an
    /// allowed call becomes a one-clause requirement part, so the answer is the cheapest set whose closure
    /// contains every observed clause. Granted strings are resolved with the policy's `strip_prefixes`.
    public func suggest(for usage: ClientUsage) -> UsageSuggestion {
        let table = policy.scopes
        var unknownRequired = Set<String>()
        var parts: [Part] = []
        var requiredSet = ScopeSet(capacity: table.count)
        for clause in usage.requiredClauses {
            var ids: [ScopeID] = []
            for name in clause {
                if let id = table.id(name) {
                    ids.append(id)
                    requiredSet.insert(id)
                } else {
                    unknownRequired.insert(name)
                }
            }
            if !ids.isEmpty { parts.append(Part(clauses: [ids.sorted()], label: clause.joined(separator: " + "))) }
        }
        let result = solve(parts: parts)
        let prefixes = (policy.model.tokens?.issuers ?? []).flatMap(\.stripPrefixes)
        var unused: [String] = []
        var unknownGranted: [String] = []
        var grantedIDs: [ScopeID] = []
        for string in usage.granted {
            let name = Grant.unprefixed(string, stripping: prefixes)
            guard let id = table.id(String(name)) else {
                unknownGranted.append(string)
                continue
            }
            grantedIDs.append(id)
            if !table.members(of: id).contains(where: { requiredSet.contains($0) }) { unused.append(string) }
        }
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return UsageSuggestion(
            usage: usage, leastPrivilege: result, unused: unused.sorted(by: byName),
            unknownGranted: unknownGranted.sorted(by: byName),
            unknownRequired: unknownRequired.sorted(by: byName),
            grantedCost: table.cost(of: setOf(grantedIDs)))
    }
}
