/// A policy compiled for matching: immutable, `Sendable`, cheap to share. Scopes are interned to dense ids,
/// closures and grants are bitsets, clauses are sorted id lists, exact names hash, globs are pre-sorted.
/// A final class so passing it around costs one reference count, not one per table.
///
/// ```swift
/// let policy = try PolicyCompiler().compile(path: "policy.yaml").compiled()
/// let grant = policy.grant(scopeString: "read:files write:files")   // once per token
/// if policy.isAllowed(.tool("read_file"), grant: grant) { /* call the tool */ }
/// let decision = policy.decide(.tool("delete_file"), grant: grant)   // reason and `missing` on a denial
/// ```
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
