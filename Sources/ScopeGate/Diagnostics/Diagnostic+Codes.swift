// The stable diagnostic codes. Ids never change meaning; retired codes are not reused.
// docs/diagnostics.md documents every code with an example, its output and the fix.
extension Diagnostic.Code {
    // MARK: SG0xx — reading and YAML
    public static let unreadableFile = Self("SG001", "unreadable-file", .error)
    public static let fileTooLarge = Self("SG002", "file-too-large", .error)
    public static let invalidUTF8 = Self("SG003", "invalid-utf8", .error)
    public static let yamlSyntax = Self("SG004", "yaml-syntax", .error)
    public static let duplicateKey = Self("SG005", "duplicate-key", .error)
    public static let nestingTooDeep = Self("SG006", "nesting-too-deep", .error)
    public static let scalarTooLong = Self("SG007", "scalar-too-long", .error)
    public static let tooManyNodes = Self("SG008", "too-many-nodes", .error)
    public static let unsetVariable = Self("SG009", "unset-variable", .error)
    public static let includeNotFound = Self("SG010", "include-not-found", .error)
    public static let includeCycle = Self("SG011", "include-cycle", .error)
    public static let tabIndentation = Self("SG012", "tab-indentation", .error)
    public static let multipleDocuments = Self("SG013", "multiple-documents", .error)

    // MARK: SG1xx — decoding (keys and types)
    public static let unknownKey = Self("SG101", "unknown-key", .error)
    public static let wrongType = Self("SG102", "wrong-type", .error)
    public static let missingKey = Self("SG103", "missing-key", .error)
    public static let unsupportedVersion = Self("SG104", "unsupported-version", .error)
    public static let invalidValue = Self("SG105", "invalid-value", .error)

    // MARK: SG2xx — names and references
    public static let invalidScopeName = Self("SG201", "invalid-scope-name", .error)
    public static let undefinedScope = Self("SG202", "undefined-scope", .error)
    public static let wildcardInRequirement = Self("SG203", "wildcard-in-requirement", .error)
    public static let doubleDefinition = Self("SG205", "double-definition", .error)
    public static let unknownTool = Self("SG206", "unknown-tool", .error)
    public static let unknownAction = Self("SG207", "unknown-action", .error)

    // MARK: SG3xx — hierarchy and wildcards
    public static let implicationCycle = Self("SG301", "implication-cycle", .error)
    public static let emptyWildcard = Self("SG302", "empty-wildcard", .warning)
    public static let broadWildcard = Self("SG303", "broad-wildcard", .warning)

    // MARK: SG4xx — tools, requirements, conditions
    public static let emptyAlternatives = Self("SG401", "empty-any", .error)
    public static let ambiguousGlobs = Self("SG402", "ambiguous-globs", .error)
    public static let invalidGlob = Self("SG403", "invalid-glob", .error)
    public static let invalidCondition = Self("SG404", "invalid-condition", .error)
    public static let deprecatedScopeRequired = Self("SG405", "deprecated-scope", .warning)
    public static let shadowedGlob = Self("SG406", "shadowed-glob", .warning)
    public static let unsatisfiableRequirement = Self("SG407", "unsatisfiable-requirement", .warning)
    public static let noRequirement = Self("SG409", "no-requirement", .error)

    // MARK: SG5xx — token settings
    public static let noAudience = Self("SG501", "no-audience", .error)
    public static let unsafeAlgorithm = Self("SG502", "unsafe-algorithm", .error)
    public static let insecureJWKS = Self("SG503", "insecure-jwks-uri", .error)
    public static let largeLeeway = Self("SG504", "large-leeway", .warning)

    // MARK: SG6xx — resource metadata
    public static let scopesSupportedAll = Self("SG601", "scopes-supported-all", .warning)
    public static let scopesSupportedOfflineAccess = Self("SG602", "scopes-supported-offline-access", .warning)
    public static let scopesSupportedEmpty = Self("SG603", "scopes-supported-empty", .warning)

    // MARK: SG7xx — analysis
    public static let unusedScope = Self("SG701", "unused-scope", .info)
    public static let excessClientScopes = Self("SG702", "excess-client-scopes", .warning)
    public static let publicDownstream = Self("SG703", "public-downstream", .warning)
    public static let downstreamWithoutExchange = Self("SG704", "downstream-without-exchange", .warning)
    public static let publicCatchAll = Self("SG705", "public-catch-all", .warning)
    public static let shadowMode = Self("SG706", "shadow-mode", .warning)

    /// Every code, in id order.
    public static let all: [Diagnostic.Code] = [
        .unreadableFile, .fileTooLarge, .invalidUTF8, .yamlSyntax, .duplicateKey, .nestingTooDeep, .scalarTooLong,
        .tooManyNodes, .unsetVariable, .includeNotFound, .includeCycle, .tabIndentation, .multipleDocuments,
        .unknownKey, .wrongType, .missingKey, .unsupportedVersion, .invalidValue,
        .invalidScopeName, .undefinedScope, .wildcardInRequirement, .doubleDefinition, .unknownTool, .unknownAction,
        .unknownIssuer,
        .implicationCycle, .emptyWildcard, .broadWildcard,
        .emptyAlternatives, .ambiguousGlobs, .invalidGlob, .invalidCondition, .deprecatedScopeRequired, .shadowedGlob,
        .unsatisfiableRequirement, .neverMatches, .noRequirement, .conflictingSettings, .requirementTooLarge,
        .noAudience, .unsafeAlgorithm, .insecureJWKS, .largeLeeway,
        .scopesSupportedAll, .scopesSupportedOfflineAccess, .scopesSupportedEmpty,
        .unusedScope, .excessClientScopes, .publicDownstream, .downstreamWithoutExchange,
        .publicCatchAll, .shadowMode,
    ]
}

extension Diagnostic.Code {
    public static let unknownIssuer = Self("SG208", "unknown-issuer", .error)
    public static let conflictingSettings = Self("SG410", "conflicting-settings", .error)
    public static let requirementTooLarge = Self("SG411", "requirement-too-large", .error)
    public static let neverMatches = Self("SG408", "condition-never-matches", .warning)
}
