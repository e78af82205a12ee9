import Foundation

/// Privilege weight class of a scope. Least-privilege cost is the sum of weights over a closure.
///
/// ```swift
/// Risk.admin.weight            // 16
/// Risk.sensitive < Risk.admin  // true
/// ```
public enum Risk: String, Sendable, Hashable, CaseIterable, Comparable {
    case low, normal, sensitive, admin

    /// low 1, normal 2, sensitive 4, admin 16.
    public var weight: Int {
        switch self {
        case .low: 1
        case .normal: 2
        case .sensitive: 4
        case .admin: 16
        }
    }

    public static func < (lhs: Risk, rhs: Risk) -> Bool { lhs.weight < rhs.weight }
}

/// A scope as declared in `scopes:` (concrete or wildcard).
///
/// ```swift
/// for scope in policy.model.scopes where scope.isWildcard { print(scope.name, "covers", scope.covers) }
/// ```
public struct ScopeDefinition: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var description: String?
    public var risk: Risk
    /// Scopes this one implies directly (after `deprecated: { use: X }` is folded in).
    public var implies: [String]
    /// Where each `implies` entry was written, parallel to ``implies``.
    public var impliesLocations: [SourceLocation]
    /// For a deprecated scope, the scope to use instead.
    public var deprecatedUse: String?
    /// `external: true`: the scope mirrors an outside catalogue (an API's full scope list), so it may be defined
    /// without any requirement here naming it; SG701 (unused scope) is not reported for it.
    public var isExternal: Bool = false
    /// `p:*` or `*`: covers every defined concrete scope under the prefix.
    public var isWildcard: Bool { name == "*" || name.hasSuffix(":*") }
    /// For a wildcard, the defined concrete scopes it covers (sorted). Filled by the resolve pass.
    public var covers: [String] = []

    /// The prefix a wildcard covers (`mcp:` for `mcp:*`, empty for `*`).
    public var wildcardPrefix: String { String(name.dropLast()) }
}

/// A requirement expression as written: a scope, or an `all`/`any` of expressions.
///
/// ```swift
/// // `{ any: [reports:read, { all: [files:read, files:export] }] }` decodes to
/// // .any([.scope("reports:read", l1), .all([.scope("files:read", l2), .scope("files:export", l3)], l4)], l5)
/// ```
public indirect enum RequirementExpression: Sendable, Hashable {
    case scope(String, SourceLocation)
    case all([RequirementExpression], SourceLocation)
    case any([RequirementExpression], SourceLocation)

    public var location: SourceLocation {
        switch self {
        case .scope(_, let l), .all(_, let l), .any(_, let l): l
        }
    }

    /// Every scope name the expression mentions, with its location.
    public var scopeReferences: [(String, SourceLocation)] {
        switch self {
        case .scope(let s, let l): [(s, l)]
        case .all(let items, _), .any(let items, _): items.flatMap(\.scopeReferences)
        }
    }
}

/// A requirement normalized to OR-of-AND clauses over concrete scope names.
///
/// ```swift
/// if let requirement = policy.model.tools[0].requirement {
///     print(requirement.clauses)   // the DNF: [["reports:read"], ["files:export", "files:read"]]
/// }
/// ```
public struct Requirement: Sendable, Hashable {
    public var expression: RequirementExpression
    /// Clauses: each sorted and unique; clauses sorted, with supersets of other clauses removed.
    public var clauses: [[String]]
    public var location: SourceLocation { expression.location }

    public init(expression: RequirementExpression, clauses: [[String]]) {
        self.expression = expression
        self.clauses = clauses
    }
}

/// One matcher over an argument value.
///
/// ```swift
/// // `path: { prefix: /etc/ }` decodes to .prefix("/etc/"); `size: { gt: 100 }` to .gt(100)
/// let matcher = ArgumentMatcher.prefix("/etc/")
/// ```
public enum ArgumentMatcher: Sendable, Hashable {
    case equals(JSONValue)
    case `in`([JSONValue])
    case notIn([JSONValue])
    case gt(Decimal)
    case gte(Decimal)
    case lt(Decimal)
    case lte(Decimal)
    case prefix(String)
    case glob(String)
    case exists(Bool)

    /// The operator name as written in YAML.
    public var name: String {
        switch self {
        case .equals: "equals"
        case .in: "in"
        case .notIn: "not_in"
        case .gt: "gt"
        case .gte: "gte"
        case .lt: "lt"
        case .lte: "lte"
        case .prefix: "prefix"
        case .glob: "glob"
        case .exists: "exists"
        }
    }
}

/// `arguments: { name: matcher }` entry: every matcher must match.
///
/// ```swift
/// for condition in policy.model.tools[0].when.first?.conditions ?? [] { print(condition.argument, condition.matchers) }
/// ```
public struct ArgumentCondition: Sendable, Hashable {
    public var argument: String
    public var matchers: [ArgumentMatcher]
    public var location: SourceLocation
}

/// A `when:` entry: when every condition matches, `requirement` is added (AND) to the call's requirement.
///
/// ```swift
/// var notes: [String] = []
/// for entry in policy.model.tools[0].when where entry.matches(["path": .string("/etc/passwd")], notes: &notes) {
///     print("also requires", entry.requirement.clauses)
/// }
/// ```
public struct ConditionalRequirement: Sendable, Hashable {
    public var conditions: [ArgumentCondition]
    public var requirement: Requirement
    public var location: SourceLocation
}

/// One entry of a tool's `actions:`.
///
/// ```swift
/// for action in policy.model.tools[0].actions ?? [] { print(action.name, action.requirement?.clauses ?? []) }
/// ```
public struct ActionRule: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var description: String?
    /// `nil`: the action adds nothing beyond the tool's own requirement.
    public var requirement: Requirement?
    public var when: [ConditionalRequirement]
}

/// `downstream:` (RFC 8693 token exchange) settings of a tool.
///
/// ```swift
/// if let downstream = policy.model.tools[0].downstream { print("exchanges for", downstream.audience, downstream.scopes) }
/// ```
public struct DownstreamExchange: Sendable, Hashable {
    public var audience: String
    public var scopes: [String]
    public var issuer: String?
    public var location: SourceLocation
}

/// A tool entry (exact name or glob).
///
/// ```swift
/// for tool in policy.model.tools where tool.isPublic { print(tool.pattern, "at", tool.location) }
/// ```
public struct ToolRule: Sendable, Hashable {
    public var pattern: String
    public var location: SourceLocation
    public var isGlob: Bool { pattern.utf8.contains(UInt8(ascii: "*")) }
    public var description: String?
    /// `public: true`: any valid token may call it.
    public var isPublic: Bool
    /// `basic: true`: part of `scopes_supported: auto`.
    public var basic: Bool
    public var requirement: Requirement?
    /// The argument that selects the action (default `action`), when `actions` is set.
    public var actionArgument: String?
    public var actions: [ActionRule]?
    public var when: [ConditionalRequirement]
    /// `mode:` of this tool (nil: the policy's top-level mode applies). See ``PolicyMode``.
    public var mode: PolicyMode?
    public var downstream: DownstreamExchange? {
        get { downstreamBox?.value }
        set { downstreamBox = newValue.map(DownstreamBox.init) }
    }
    /// Boxed: few tools have one, and inline it would add 73 bytes to every tool rule (0.7 MB at 10,000 tools).
    private var downstreamBox: DownstreamBox?

    init(
        pattern: String, location: SourceLocation, description: String?, isPublic: Bool, basic: Bool,
        requirement: Requirement?, actionArgument: String?, actions: [ActionRule]?, when: [ConditionalRequirement],
        downstream: DownstreamExchange?
    ) {
        self.pattern = pattern
        self.location = location
        self.description = description
        self.isPublic = isPublic
        self.basic = basic
        self.requirement = requirement
        self.actionArgument = actionArgument
        self.actions = actions
        self.when = when
        self.downstream = downstream
    }
}

/// Immutable storage for ``ToolRule/downstream``; compared and hashed by value.
final class DownstreamBox: Sendable, Hashable {
    let value: DownstreamExchange
    init(_ value: DownstreamExchange) { self.value = value }
    static func == (a: DownstreamBox, b: DownstreamBox) -> Bool { a.value == b.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}

/// A `methods:`, `resources:` or `prompts:` entry.
///
/// ```swift
/// for rule in policy.model.methods { print(rule.pattern, rule.requirement?.clauses ?? []) }
/// ```
public struct PatternRule: Sendable, Hashable {
    public var pattern: String
    public var location: SourceLocation
    public var isGlob: Bool { pattern.utf8.contains(UInt8(ascii: "*")) }
    public var isPublic: Bool
    public var requirement: Requirement?
}

/// One tool (optionally restricted to actions) in a client profile.
///
/// ```swift
/// for entry in policy.model.clients[0].tools { print(entry.tool, entry.actions ?? ["every action"]) }
/// ```
public struct ClientToolGrant: Sendable, Hashable {
    public var tool: String
    public var actions: [String]?
    public var location: SourceLocation
}

/// A named client profile.
///
/// ```swift
/// for client in policy.model.clients {
///     let selections = client.tools.map { ToolSelection(tool: $0.tool, actions: $0.actions) }
///     print(client.name, try LeastPrivilegeSolver(policy: policy).minimal(for: selections).scopes)
/// }
/// ```
public struct ClientProfile: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var description: String?
    public var tools: [ClientToolGrant]
    /// The scopes the client is granted, if declared (lint checks them against least privilege).
    public var scopes: [String]?
    public var scopeLocations: [SourceLocation]
}

/// `resource:`: this MCP server as an OAuth protected resource (RFC 9728).
///
/// ```swift
/// if let resource = policy.model.resource { print(resource.id ?? "-", resource.resolvedScopesSupported) }
/// ```
public struct ResourceConfig: Sendable, Hashable {
    public enum ScopesSupported: Sendable, Hashable {
        case auto
        case explicit([String])
    }
    public var id: String?
    public var authorizationServers: [String]
    public var scopesSupported: ScopesSupported
    public var documentation: String?
    public var location: SourceLocation
    /// The concrete `scopes_supported` list (auto resolved by the analyse pass).
    public var resolvedScopesSupported: [String] = []
    /// `publish_requirements: true`: serve every tool's requirements before any token, linked from the Protected
    /// Resource Metadata (off by default: the document names every tool).
    public var publishRequirements = false
}

/// `audit:`.
///
/// ```swift
/// let logged = Set(policy.model.audit.arguments)   // argument names written to audit events unredacted
/// ```
public struct AuditConfig: Sendable, Hashable {
    /// Argument names whose values may be logged; others are redacted.
    public var arguments: [String] = []
    public init(arguments: [String] = []) { self.arguments = arguments }
}

/// The validated, resolved policy: plain strings, with locations. The matcher lowers this into
/// ``CompiledPolicy``; tools that explain or analyse a policy read it directly.
///
/// ```swift
/// let model = try PolicyCompiler().compile(path: "policy.yaml").compiled().model
/// print(model.tools.count, "tools,", model.scopes.count, "scopes, version", model.contentHash)
/// ```
public struct PolicyModel: Sendable {
    /// Every loaded file, root first.
    public var files: [String]
    /// 64-bit content hash of every loaded file, hex.
    public var contentHash: String
    public var resource: ResourceConfig?
    public var tokens: TokensConfig?
    /// Scopes in declaration order.
    public var scopes: [ScopeDefinition]
    public var tools: [ToolRule]
    public var methods: [PatternRule]
    public var resources: [PatternRule]
    public var prompts: [PatternRule]
    public var clients: [ClientProfile]
    public var audit: AuditConfig
    /// The top-level `mode:` (nil: not written, which means ``PolicyMode/enforce``); tools may override it.
    public var mode: PolicyMode? = nil
    /// Where the top-level `mode:` was written.
    public var modeLocation: SourceLocation? = nil

    /// Scope definitions by name.
    public var scopeIndex: [String: Int]
    /// Tools by exact name (exact entries only).
    public var toolIndex: [String: Int]

    /// The definition of a scope, if declared.
    public func scope(_ name: String) -> ScopeDefinition? { scopeIndex[name].map { scopes[$0] } }
}
