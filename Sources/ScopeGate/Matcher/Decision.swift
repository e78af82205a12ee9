/// The answer to "may this grant make this call?". Cheap to produce: on the allow path it holds no heap
/// storage of its own. Render it with ``CompiledPolicy/record(for:call:grant:)`` or explain it with
/// ``CompiledPolicy/explain(_:grant:)``.
///
/// ```swift
/// let decision = policy.decide(.tool("delete_file"), grant: grant)
/// if !decision.allowed {
///     print(decision.reason, policy.names(decision.missing))   // missing_scope ["admin:files"]
///     let header = policy.challenge(for: decision, grant: grant)   // WWW-Authenticate of the 403
/// }
/// ```
public struct Decision: Sendable, Hashable {
    /// A stable reason code (open for extension).
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let allowed = Reason("allowed")
        public static let missingScope = Reason("missing_scope")
        public static let unknownTool = Reason("unknown_tool")
        public static let unknownAction = Reason("unknown_action")
        public static let unknownMethod = Reason("unknown_method")
        public static let unknownResource = Reason("unknown_resource")
        public static let unknownPrompt = Reason("unknown_prompt")
        public static let invalidToken = Reason("invalid_token")
    }

    public let allowed: Bool
    public let reason: Reason
    /// Location of the rule that decided (nil for built-in methods and unknown names).
    public let rule: SourceLocation?
    /// On `missing_scope`: the cheapest completion (concrete scope ids, sorted by name).
    public let missing: [ScopeID]
    /// Notes for the explanation, e.g. an argument of the wrong type that counted as matched.
    public let notes: [String]

    init(allowed: Bool, reason: Reason, rule: SourceLocation?, missing: [ScopeID] = [], notes: [String] = []) {
        self.allowed = allowed
        self.reason = reason
        self.rule = rule
        self.missing = missing
        self.notes = notes
    }

    /// A denial for a token that failed verification (used by the token and MCP layers).
    public static func invalidToken(_ note: String) -> Decision {
        Decision(allowed: false, reason: .invalidToken, rule: nil, notes: [note])
    }
}

/// How the `scope` of a 403 challenge is built.
///
/// ```swift
/// let header = policy.challenge(for: decision, grant: grant, style: .missingOnly)
/// ```
public enum ChallengeScope: Sendable, Hashable {
    /// The known granted strings as sent plus `missing` (clients that replace scopes still converge). Default.
    case grantedPlusMissing
    /// Only the missing scopes.
    case missingOnly
}
