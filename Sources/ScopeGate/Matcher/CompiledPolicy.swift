import Foundation

/// A requirement lowered to clause indices `[lower, upper)` in ``CompiledPolicy/clauseBounds``.
/// `lower == upper` means "no requirement".

struct ClauseRange: Sendable {
    var lower: Int32
    var upper: Int32
    var isEmpty: Bool { lower == upper }
    static let none = ClauseRange(lower: 0, upper: 0)
}

struct CompiledCondition: Sendable {
    let argument: String
    let matchers: [ArgumentMatcher]
    let globs: [Glob?]
}

struct CompiledWhen: Sendable {
    let conditions: [CompiledCondition]
    let requirement: ClauseRange
    let location: SourceLocation
}

struct CompiledAction: Sendable {
    let name: String
    let requirement: ClauseRange
    let when: [CompiledWhen]
}

/// A final class: a decision touches one rule, and passing it costs one reference count instead of one per field.
/// Actions, which most rules lack, live in a separate object: a rule is then 77 bytes (a 96-byte allocation)
/// instead of 112 (128), a third of a megabyte at 10,000 tools. Conditions stay inline: boxing them too cost a
/// retain of the box on every decision of a rule with conditions.
final class CompiledRule: Sendable {
    let location: SourceLocation
    let requirement: ClauseRange
    let when: [CompiledWhen]
    /// Actions; nil for a rule without (decisions test this once).
    let extras: Extras?
    /// Index into the model's `tools`, `resources`, `prompts` or `methods` (a policy has far fewer than 2³¹ rules).
    private let index: Int32
    let isPublic: Bool

    final class Extras: Sendable {
        let actionArgument: String?
        let actions: [String: Int]
        let actionList: [CompiledAction]

        init(actionArgument: String?, actions: [String: Int], actionList: [CompiledAction]) {
            self.actionArgument = actionArgument
            self.actions = actions
            self.actionList = actionList
        }
    }

    var modelIndex: Int { Int(index) }
    var actionArgument: String? { extras?.actionArgument }
    var actions: [String: Int] { extras?.actions ?? [:] }
    var actionList: [CompiledAction] { extras?.actionList ?? [] }
    var hasActions: Bool { actionArgument != nil }

    init(
        modelIndex: Int, location: SourceLocation, isPublic: Bool, requirement: ClauseRange, actionArgument: String?,
        actions: [String: Int], actionList: [CompiledAction], when: [CompiledWhen]
    ) {
        self.index = Int32(truncatingIfNeeded: modelIndex)
        self.location = location
        self.isPublic = isPublic
        self.requirement = requirement
        self.when = when
        if actionArgument == nil, actions.isEmpty, actionList.isEmpty {
            self.extras = nil
        } else {
            self.extras = Extras(actionArgument: actionArgument, actions: actions, actionList: actionList)
        }
    }
}

/// Rules addressable by exact name or by the most specific matching glob.

struct RuleTable: Sendable {
    /// Glob rules, most specific first.
    let globs: [(Glob, Int)]
    let rules: [CompiledRule]
    /// Exact names (the lookup path): the rule index of exact name `i` is `exactRules[i]`.
    let exactIndex: NameIndex
    let exactRules: [Int]
    /// Candidate globs by literal prefix (see ``GlobIndex``).
    let index: GlobIndex

    /// `exact` lists exact names with their rule, in declaration order. A name listed twice (a model the
    /// compiler would reject) resolves to its last rule: names are indexed last first, and the index keeps the
    /// first of equal keys.
    init(exact: [(name: String, rule: Int)], globs: [(Glob, Int)], rules: [CompiledRule]) {
        self.globs = globs
        self.rules = rules
        let n = exact.count
        self.exactIndex = NameIndex(count: n) { id, add in
            var name = exact[n - 1 - id].name
            name.withUTF8 { add($0) }
        }
        self.exactRules = exact.reversed().map(\.rule)
        self.index = GlobIndex(globs.map(\.0))
    }

    func lookup(_ name: String) -> Int? {
        var name = name
        return name.withUTF8 { buffer in
            if let i = exactIndex.lookup(utf8: buffer) { return exactRules[Int(i)] }
            if globs.isEmpty { return nil }
            return index.firstMatch(buffer, in: globs).map { globs[$0].1 }
        }
    }
}

/// An index over globs sorted most specific first, so a lookup tests only the globs whose literal prefix the
/// name starts with, instead of every glob of the policy.
///
/// Each glob is filed under the first `k = min(prefix, 8)` bytes of its literal prefix, in the table for that `k`;
/// globs starting with `*` are always candidates. A lookup probes the name's first `k` bytes for each `k` in use
/// and tests the candidates of each bucket in rank order, stopping at the first match or at a rank no better than
/// the best match so far — so the answer is exactly the first match of a linear scan over the sorted globs.
struct GlobIndex: Sendable {
    struct Table: Sendable {
        let k: Int
        let keys: NameIndex
        /// Ranks (positions in the sorted glob list) of key `i`, ascending.
        let ranks: [[Int32]]
    }
    let tables: [Table]
    /// Ranks of globs without a literal prefix.
    let unanchored: [Int32]

    init(_ globs: [Glob]) {
        var byLength = [[[UInt8]: [Int32]]](repeating: [:], count: 9)
        var unanchored: [Int32] = []
        for (rank, glob) in globs.enumerated() {
            let k = min(glob.pieces[0].count, 8)
            if k == 0 {
                unanchored.append(Int32(rank))
                continue
            }
            byLength[k][Array(glob.pieces[0][0..<k]), default: []].append(Int32(rank))
        }
        var tables: [Table] = []
        for k in 1...8 where !byLength[k].isEmpty {
            let keys = byLength[k].keys.sorted { $0.lexicographicallyPrecedes($1) }
            tables.append(
                Table(
                    k: k, keys: NameIndex(keys: keys),
                    ranks: keys.map { byLength[k][$0] ?? [] }))
        }
        self.tables = tables
        self.unanchored = unanchored
    }

    /// Rank of the most specific glob matching `name`, if any.
    func firstMatch(_ name: UnsafeBufferPointer<UInt8>, in globs: [(Glob, Int)]) -> Int? {
        var best = Int32.max
        func scan(_ ranks: [Int32]) {
            for rank in ranks {
                if rank >= best { return }
                if globs[Int(rank)].0.matches(utf8: name) {
                    best = rank
                    return
                }
            }
        }
        for table in tables where table.k <= name.count {
            if let key = table.keys.lookup(utf8: UnsafeBufferPointer(rebasing: name[0..<table.k])) {
                scan(table.ranks[Int(key)])
            }
        }
        if !unanchored.isEmpty { scan(unanchored) }
        return best == Int32.max ? nil : Int(best)
    }
}

/// A policy compiled for matching: immutable, `Sendable`, cheap to share. Scopes are interned to dense ids,
/// closures and grants are bitsets, clauses are sorted id lists, exact names hash, globs are pre-sorted.
/// A final class so passing it around costs one reference count, not one per table.
public final class CompiledPolicy: Sendable {
    /// The validated model this was lowered from (names, locations, descriptions).
    public let model: PolicyModel
    /// Interned scopes with closures.
    public let scopes: ScopeTable
    /// A stamp unique to this compiled value, so a ``Grant`` from another policy version is never misread.
    public let stamp: UInt64
    /// The RFC 9728 metadata URL derived from `resource.id` (computed once; challenges use it per call).
    let metadataURL: String?

    let clauseIDs: [ScopeID]
    /// Clause `c` is `clauseIDs[clauseBounds[c] ..< clauseBounds[c + 1]]`.
    let clauseBounds: [Int32]
    let tools: RuleTable
    let resources: RuleTable
    let prompts: RuleTable
    let methods: RuleTable

    /// Lowers a validated model. Prefer ``CompileResult/compiled()``, which refuses models with errors.
    public init(model: PolicyModel) {
        self.model = model
        let scopes = ScopeTable(model: model)
        self.scopes = scopes
        self.stamp = PolicyStamp.next()
        self.metadataURL = CompiledPolicy.metadataURL(for: model)
        var lowering = Lowering(scopes: scopes)
        self.tools = lowering.table(model.tools)
        self.resources = lowering.table(model.resources)
        self.prompts = lowering.table(model.prompts)
        self.methods = lowering.table(model.methods)
        self.clauseIDs = lowering.clauseIDs
        self.clauseBounds = lowering.clauseBounds
    }

    /// The tables of `lowered` with `model`, which must differ from `lowered.model` only in what lowering does not
    /// read (`files`, `contentHash`, `resource.resolvedScopesSupported`). The compiler lowers once for its
    /// analyses, which fill in those fields, and reuses the tables for the result.
    init(reusing lowered: CompiledPolicy, model: PolicyModel) {
        self.model = model
        self.scopes = lowered.scopes
        self.stamp = PolicyStamp.next()
        self.metadataURL = CompiledPolicy.metadataURL(for: model)
        self.tools = lowered.tools
        self.resources = lowered.resources
        self.prompts = lowered.prompts
        self.methods = lowered.methods
        self.clauseIDs = lowered.clauseIDs
        self.clauseBounds = lowered.clauseBounds
    }

    /// Ids of clause `c`.

    func clause(_ c: Int) -> ArraySlice<ScopeID> {
        clauseIDs[Int(clauseBounds[c])..<Int(clauseBounds[c + 1])]
    }

    /// Names of clause `c`.
    func clauseNames(_ c: Int) -> [String] { clause(c).map { scopes.name(of: $0) } }

    /// Number of clauses in the policy.
    public var clauseCount: Int { clauseBounds.count - 1 }

    /// The model index of the tool rule a name resolves to (exact, else most specific glob).
    public func toolRuleIndex(for name: String) -> Int? {
        tools.lookup(name).map { tools.rules[$0].modelIndex }
    }
}

enum PolicyStamp {
    private static let counter = Counter()
    static func next() -> UInt64 { counter.next() }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UInt64 = 0
        func next() -> UInt64 {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}

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
        return ClauseRange(lower: lower, upper: Int32(clauseBounds.count - 1))
    }

    mutating func lower(_ when: [ConditionalRequirement]) -> [CompiledWhen] {
        when.map { w in
            CompiledWhen(
                conditions: w.conditions.map { c in
                    CompiledCondition(
                        argument: c.argument, matchers: c.matchers,
                        globs: c.matchers.map {
                            if case .glob(let p) = $0 { return Glob(p) } else { return nil }
                        })
                }, requirement: lower(w.requirement), location: w.location)
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
