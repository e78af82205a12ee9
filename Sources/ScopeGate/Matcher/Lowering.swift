/// What lowering reads of a rule (tools have actions and conditions; methods, resources and prompts do not).
protocol LowerableRule {
    var pattern: String { get }
    var location: SourceLocation { get }
    var isPublic: Bool { get }
    var requirement: Requirement? { get }
    var ruleActionArgument: String? { get }
    var ruleActions: [ActionRule]? { get }
    var ruleWhen: [ConditionalRequirement] { get }
}

extension ToolRule: LowerableRule {
    var ruleActionArgument: String? { actionArgument }
    var ruleActions: [ActionRule]? { actions }
    var ruleWhen: [ConditionalRequirement] { when }
}

extension PatternRule: LowerableRule {
    var ruleActionArgument: String? { nil }
    var ruleActions: [ActionRule]? { nil }
    var ruleWhen: [ConditionalRequirement] { [] }
}

/// Lowering state: appends clauses to one flat array.
struct Lowering {
    let scopes: ScopeTable
    var clauseIDs: [ScopeID] = []
    var clauseBounds: [Int32] = [0]

    init(scopes: ScopeTable) { self.scopes = scopes }

    mutating func lower(_ requirement: Requirement?) -> ClauseRange {
        guard let requirement, !requirement.clauses.isEmpty else { return .none }
        let lower = Int32(clauseBounds.count - 1)
        for clause in requirement.clauses {
            // Undefined names cannot occur in an error-free model; map them to nothing satisfiable anyway.
            let start = clauseIDs.count
            for name in clause { clauseIDs.append(scopes.id(name) ?? ScopeID.max) }
            if clause.count > 1 { clauseIDs[start...].sort() }
            clauseBounds.append(Int32(clauseIDs.count))
        }
        var range = ClauseRange(lower: lower, upper: Int32(clauseBounds.count - 1))
        if requirement.clauses.count == 1, requirement.clauses[0].count == 1, let only = clauseIDs.last,
            only != ScopeID.max
        {
            range.singleScopePlusOne = only + 1
        }
        return range
    }

    mutating func lower(_ when: [ConditionalRequirement]) -> [CompiledWhen] {
        when.map { w in
            var tests: [ConditionTest] = []
            for c in w.conditions {
                for (i, matcher) in c.matchers.enumerated() {
                    var glob: Glob?
                    if case .glob(let pattern) = matcher { glob = Glob(pattern) }
                    tests.append(ConditionTest(argument: c.argument, matcher: matcher, glob: glob, sameArgument: i > 0))
                }
            }
            return CompiledWhen(tests: tests, requirement: lower(w.requirement), location: w.location)
        }
    }

    /// The rule table of a model section. Fields are read from the rules in place (copying each rule whole, or
    /// into a tuple, retained and released every field of 10,000 tools).
    mutating func table<Rule: LowerableRule>(_ section: [Rule]) -> RuleTable {
        var exact: [(name: String, rule: Int)] = []
        exact.reserveCapacity(section.count)
        var globs: [(Glob, Int, Int)] = []
        var rules: [CompiledRule] = []
        rules.reserveCapacity(section.count)
        for modelIndex in section.indices {
            var actionList: [CompiledAction] = []
            var actionIndex: [String: Int] = [:]
            var actionArgument: String?
            if let actions = section[modelIndex].ruleActions {
                actionList = actions.map { a in
                    CompiledAction(name: a.name, requirement: lower(a.requirement), when: lower(a.when))
                }
                for (i, a) in actionList.enumerated() { actionIndex[a.name] = i }
                actionArgument = section[modelIndex].ruleActionArgument ?? "action"
            }
            let rule = CompiledRule(
                modelIndex: modelIndex, location: section[modelIndex].location,
                isPublic: section[modelIndex].isPublic, requirement: lower(section[modelIndex].requirement),
                actionArgument: actionArgument, actions: actionIndex, actionList: actionList,
                when: lower(section[modelIndex].ruleWhen))
            let pattern = section[modelIndex].pattern
            if pattern.utf8.contains(UInt8(ascii: "*")) {  // a byte scan: `contains("*")` is Foundation's `range(of:)`
                globs.append((Glob(pattern), rules.count, modelIndex))
            } else {
                exact.append((pattern, rules.count))
            }
            rules.append(rule)
        }
        // Most specific first; declaration order breaks (compile-time-rejected) ties deterministically.
        globs.sort { a, b in
            let sa = a.0.specificity
            let sb = b.0.specificity
            return sa != sb ? sb < sa : a.2 < b.2
        }
        return RuleTable(exact: exact, globs: globs.map { ($0.0, $0.1) }, rules: rules)
    }
}
