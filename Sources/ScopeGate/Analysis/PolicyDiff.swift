import Foundation

/// What changed between two policies, from the point of view of access: per rule (tool, resource, prompt,
/// method) the old and new requirement; per scope and per client profile the rules newly reachable or no longer
/// reachable; and the privilege escalations among them.
///
/// A rule is *reachable* from a set of scopes when every requirement part — the rule's `requires` and, for a
/// tool with actions, every action's requirement — has a clause within the set's closure (`when` extras are
/// left out). Public rules are reachable by any valid token and are compared separately.
///
/// *Escalations*: a scope defined in both policies, or a client profile in both, now reaches a rule (present in
/// both) it could not; a rule now needs less privilege (its least-privilege cost dropped); a rule became public;
/// a new public rule. Everything else is a plain change.
///
/// ```swift
/// let diff = PolicyDiff(old: deployed, new: proposed)
/// for escalation in diff.escalations { print("escalation:", escalation.message) }
/// if diff.hasChanges { print(diff.rules.map(\.name)) }
/// ```
public struct PolicyDiff: Sendable, Hashable {
    /// One rule whose requirement changed, appeared or disappeared.
    public struct RuleChange: Sendable, Hashable {
        public enum Kind: String, Sendable, Hashable { case added, removed, changed }
        /// `get_forecast`, `resource clients://*`, `prompt summarize`, `method logging/setLevel`.
        public var name: String
        public var kind: Kind
        /// The old and new requirement, described (`nil` when absent).
        public var old: String?
        public var new: String?
        /// Least-privilege cost in each policy (`nil` when absent; 0 for public rules).
        public var oldCost: Int?
        public var newCost: Int?
        public var location: SourceLocation?
    }

    /// Rules a scope (or client) reaches in the new policy but not the old one, and the reverse.
    public struct ReachChange: Sendable, Hashable {
        /// `scope NAME` or `client NAME`.
        public var subject: String
        public var gained: [String]
        public var lost: [String]
    }

    /// A change that widens access.
    public struct Escalation: Sendable, Hashable, CustomStringConvertible {
        /// `scope-reach`, `client-reach`, `less-privilege`, `now-public`, `new-public`.
        public var kind: String
        public var subject: String
        public var rule: String
        public var message: String
        public var location: SourceLocation?
        public var description: String { message }
    }

    public var rules: [RuleChange]
    /// Scope definitions added, removed, or changed (risk, implies, wildcard coverage), one line each.
    public var scopeDefinitions: [String]
    public var scopes: [ReachChange]
    public var clients: [ReachChange]
    /// Client profiles added or removed, one line each.
    public var clientProfiles: [String]
    public var escalations: [Escalation]

    /// Whether anything at all changed.
    public var hasChanges: Bool {
        !rules.isEmpty || !scopeDefinitions.isEmpty || !scopes.isEmpty || !clients.isEmpty || !clientProfiles.isEmpty
    }

    /// A rule reduced to what the diff compares.
    struct Rule {
        var name: String
        var isPublic: Bool
        /// Parts (ANDed), each a DNF over scope names.
        var parts: [[[String]]]
        var description: String
        var location: SourceLocation
        var selection: [LeastPrivilegeSolver.Part]
    }

    static func rules(of policy: CompiledPolicy) -> [String: Rule] {
        let model = policy.model
        func dnf(_ clauses: [[String]]) -> String {
            clauses.map { $0.joined(separator: " + ") }.joined(separator: " OR ")
        }
        func describe(_ w: ConditionalRequirement) -> String {
            w.conditions.map { c in "\(c.argument) " + c.matchers.map(\.name).joined(separator: "+") }.joined(
                separator: ", ")
        }
        func ids(_ parts: [[[String]]], _ label: String) -> [LeastPrivilegeSolver.Part] {
            // Clauses naming an undefined scope (impossible in an error-free policy) are dropped, never indexed.
            parts.map { part in
                LeastPrivilegeSolver.Part(
                    clauses: part.compactMap { clause in
                        let ids = clause.compactMap { policy.scopes.id($0) }
                        return ids.count == clause.count ? ids : nil
                    }, label: label)
            }
        }
        var out: [String: Rule] = [:]
        for t in model.tools {
            var parts: [[[String]]] = []
            var text: [String] = []
            if let r = t.requirement {
                parts.append(r.clauses)
                text.append("requires " + dnf(r.clauses))
            }
            for w in t.when { text.append("when \(describe(w)): " + dnf(w.requirement.clauses)) }
            for a in t.actions ?? [] {
                if let r = a.requirement { parts.append(r.clauses) }
                text.append("action \(a.name): " + (a.requirement.map { dnf($0.clauses) } ?? "(nothing more)"))
                for w in a.when { text.append("action \(a.name) when \(describe(w)): " + dnf(w.requirement.clauses)) }
            }
            if t.isPublic { text = ["public"] }
            if text.isEmpty { text = ["(no requirement)"] }
            out[t.pattern] = Rule(
                name: t.pattern, isPublic: t.isPublic, parts: parts, description: text.joined(separator: "; "),
                location: t.location, selection: ids(parts, t.pattern))
        }
        for (kind, list) in [("resource", model.resources), ("prompt", model.prompts), ("method", model.methods)] {
            for r in list {
                let parts = r.requirement.map { [$0.clauses] } ?? []
                let name = "\(kind) \(r.pattern)"
                let text =
                    r.isPublic ? "public" : (r.requirement.map { "requires " + dnf($0.clauses) } ?? "(no requirement)")
                out[name] = Rule(
                    name: name, isPublic: r.isPublic, parts: parts, description: text, location: r.location,
                    selection: ids(parts, name))
            }
        }
        return out
    }

    static func reachable(_ rule: Rule, _ policy: CompiledPolicy, _ closure: ScopeSet) -> Bool {
        if rule.isPublic { return true }
        return rule.parts.allSatisfy { part in
            part.contains { clause in clause.allSatisfy { policy.scopes.id($0).map(closure.contains) ?? false } }
        }
    }

    static func closure(_ policy: CompiledPolicy, _ names: [String]) -> ScopeSet? {
        let ids = names.compactMap { policy.scopes.id($0) }
        return ids.isEmpty && !names.isEmpty ? nil : policy.scopes.closure(of: ids)
    }

    /// Compares two compiled policies.
    public init(old: CompiledPolicy, new: CompiledPolicy) {
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        let oldRules = Self.rules(of: old)
        let newRules = Self.rules(of: new)
        let oldSolver = LeastPrivilegeSolver(policy: old)
        let newSolver = LeastPrivilegeSolver(policy: new)
        var rules: [RuleChange] = []
        var escalations: [Escalation] = []
        for name in Set(oldRules.keys).union(newRules.keys).sorted(by: byName) {
            let o = oldRules[name]
            let n = newRules[name]
            let oc = o.map { oldSolver.solve(parts: $0.isPublic ? [] : $0.selection) }
            let nc = n.map { newSolver.solve(parts: $0.isPublic ? [] : $0.selection) }
            switch (o, n) {
            case (nil, let n?):
                rules.append(
                    RuleChange(
                        name: name, kind: .added, old: nil, new: n.description, oldCost: nil, newCost: nc?.cost,
                        location: n.location))
                if n.isPublic {
                    escalations.append(
                        Escalation(
                            kind: "new-public", subject: name, rule: name,
                            message: "new public rule `\(name)`: any valid token may call it", location: n.location))
                }
            case (let o?, nil):
                rules.append(
                    RuleChange(
                        name: name, kind: .removed, old: o.description, new: nil, oldCost: oc?.cost, newCost: nil,
                        location: nil))
            case (let o?, let n?):
                let costChanged = oc?.cost != nc?.cost || oc?.scopes != nc?.scopes
                if o.description != n.description || costChanged {
                    rules.append(
                        RuleChange(
                            name: name, kind: .changed, old: o.description, new: n.description,
                            oldCost: oc?.cost, newCost: nc?.cost, location: n.location))
                }
                if n.isPublic && !o.isPublic {
                    escalations.append(
                        Escalation(
                            kind: "now-public", subject: name, rule: name,
                            message: "`\(name)` became public: any valid token may call it", location: n.location))
                } else if !n.isPublic, let oc, let nc, nc.satisfiable, nc.cost < oc.cost {
                    let from = oc.scopes.isEmpty ? "(none)" : oc.scopes.joined(separator: " ")
                    let to = nc.scopes.isEmpty ? "(none)" : nc.scopes.joined(separator: " ")
                    escalations.append(
                        Escalation(
                            kind: "less-privilege", subject: name, rule: name,
                            message:
                                "`\(name)` now needs less privilege: cost \(oc.cost) → \(nc.cost) (\(from) → \(to))",
                            location: n.location))
                }
            case (nil, nil): break
            }
        }
        // Scope definitions.
        var scopeDefinitions: [String] = []
        let oldScopes = Set(old.model.scopes.map(\.name))
        let newScopes = Set(new.model.scopes.map(\.name))
        for name in oldScopes.union(newScopes).sorted(by: byName) {
            switch (old.model.scope(name), new.model.scope(name)) {
            case (nil, let n?): scopeDefinitions.append("+ scope `\(name)` (\(n.risk.rawValue))")
            case (_?, nil): scopeDefinitions.append("- scope `\(name)`")
            case (let o?, let n?):
                var what: [String] = []
                if o.risk != n.risk { what.append("risk \(o.risk.rawValue) → \(n.risk.rawValue)") }
                if Set(o.implies) != Set(n.implies) {
                    what.append(
                        "implies [\(o.implies.sorted(by: byName).joined(separator: " "))] → [\(n.implies.sorted(by: byName).joined(separator: " "))]"
                    )
                }
                if o.covers != n.covers {
                    what.append("covers [\(o.covers.joined(separator: " "))] → [\(n.covers.joined(separator: " "))]")
                }
                if !what.isEmpty { scopeDefinitions.append("~ scope `\(name)`: " + what.joined(separator: "; ")) }
            case (nil, nil): break
            }
        }
        // Reach per scope (non-public rules only; public ones are reported above).
        let shared = Set(oldRules.keys).intersection(newRules.keys)
        func reach(_ policy: CompiledPolicy, _ rules: [String: Rule], _ closure: ScopeSet?) -> Set<String> {
            guard let closure else { return [] }
            return Set(
                rules.values.filter { !$0.isPublic && !$0.parts.isEmpty && Self.reachable($0, policy, closure) }.map(
                    \.name))
        }
        var scopes: [ReachChange] = []
        for name in oldScopes.union(newScopes).sorted(by: byName) {
            let before = reach(old, oldRules, oldScopes.contains(name) ? Self.closure(old, [name]) : nil)
            let after = reach(new, newRules, newScopes.contains(name) ? Self.closure(new, [name]) : nil)
            let gained = after.subtracting(before).sorted(by: byName)
            let lost = before.subtracting(after).sorted(by: byName)
            if gained.isEmpty && lost.isEmpty { continue }
            scopes.append(ReachChange(subject: "scope \(name)", gained: gained, lost: lost))
            if oldScopes.contains(name) && newScopes.contains(name) {
                for rule in gained where shared.contains(rule) && !(oldRules[rule]?.isPublic ?? true) {
                    escalations.append(
                        Escalation(
                            kind: "scope-reach", subject: "scope \(name)", rule: rule,
                            message: "scope `\(name)` now reaches `\(rule)`", location: newRules[rule]?.location))
                }
            }
        }
        // Reach per client profile: its declared scopes, else its old least-privilege set (the tokens it holds).
        var clients: [ReachChange] = []
        var clientProfiles: [String] = []
        let oldClients = Dictionary(old.model.clients.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let newClients = Dictionary(new.model.clients.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in Set(oldClients.keys).union(newClients.keys).sorted(by: byName) {
            guard let o = oldClients[name], let n = newClients[name] else {
                clientProfiles.append(oldClients[name] == nil ? "+ client `\(name)`" : "- client `\(name)`")
                continue
            }
            let oldGrant =
                o.scopes ?? oldSolver.solve(o.tools.map { ToolSelection(tool: $0.tool, actions: $0.actions) }).scopes
            let newGrant = n.scopes ?? oldGrant
            let before = reach(old, oldRules, Self.closure(old, oldGrant))
            let after = reach(new, newRules, Self.closure(new, newGrant))
            let gained = after.subtracting(before).sorted(by: byName)
            let lost = before.subtracting(after).sorted(by: byName)
            if gained.isEmpty && lost.isEmpty { continue }
            clients.append(ReachChange(subject: "client \(name)", gained: gained, lost: lost))
            for rule in gained where shared.contains(rule) && !(oldRules[rule]?.isPublic ?? true) {
                escalations.append(
                    Escalation(
                        kind: "client-reach", subject: "client \(name)", rule: rule,
                        message: "client `\(name)` now reaches `\(rule)`", location: newRules[rule]?.location))
            }
        }
        self.rules = rules
        self.scopeDefinitions = scopeDefinitions
        self.scopes = scopes
        self.clients = clients
        self.clientProfiles = clientProfiles
        self.escalations = escalations
    }
}
