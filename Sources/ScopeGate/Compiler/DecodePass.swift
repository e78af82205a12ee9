import Foundation

/// What one policy file declares, decoded but not yet resolved across files.
struct FileDeclarations: Sendable {
    var path: String
    var version: (Int, SourceLocation)?
    var includes: [(String, SourceLocation)] = []
    var resource: ResourceConfig?
    var tokens: TokensConfig?
    var scopes: [ScopeDefinition] = []
    var tools: [ToolRule] = []
    var methods: [PatternRule] = []
    var resources: [PatternRule] = []
    var prompts: [PatternRule] = []
    var clients: [ClientProfile] = []
    var audit: (AuditConfig, SourceLocation)?
    var mode: PolicyMode?
    var sectionLocations: [String: SourceLocation] = [:]
}

/// Pass 1, decode: keys and types of one file's tree, unknown keys with "did you mean".
struct DecodePass {
    static let rootKeys = [
        "version", "resource", "tokens", "scopes", "tools", "methods", "resources", "prompts",
        "clients", "audit", "include", "mode",
    ]
    static let resourceKeys = [
        "id", "authorization_servers", "scopes_supported", "documentation", "publish_requirements",
    ]
    static let tokensKeys = ["issuers", "leeway_seconds", "scope_claims", "require_typ"]
    static let issuerKeys = [
        "issuer", "jwks_uri", "algorithms", "audiences", "scope_claims", "roles", "strip_prefixes",
        "introspection", "exchange",
    ]
    static let scopeKeys = ["description", "risk", "implies", "deprecated", "external"]
    static let toolKeys = [
        "requires", "description", "public", "basic", "action_argument", "actions", "when", "downstream", "mode",
    ]
    static let actionKeys = ["requires", "description", "when"]
    static let whenKeys = ["arguments", "requires"]
    static let matcherKeys = ["equals", "in", "not_in", "gt", "gte", "lt", "lte", "prefix", "glob", "exists"]
    static let ruleKeys = ["requires", "public", "description"]
    static let clientKeys = ["description", "tools", "scopes"]
    static let downstreamKeys = ["audience", "scopes", "issuer"]

    var diagnostics = Diagnostics()
    let path: String

    init(path: String) { self.path = path }

    // MARK: helpers

    mutating func error(
        _ code: Diagnostic.Code, _ message: String, _ loc: SourceLocation, help: String,
        notes: [Diagnostic.Note] = []
    ) {
        diagnostics.append(Diagnostic(code, message, at: loc, help: help, notes: notes))
    }

    mutating func wrongType(_ node: YAMLNode, expected: String, what: @autoclosure () -> String, help: String? = nil) {
        error(
            .wrongType, "\(what()) must be \(expected), found \(node.typeName)", node.location,
            help: help ?? "write \(what()) as \(expected)")
    }

    /// The pairs of a mapping node, reporting unknown keys. A null node counts as an empty mapping.
    /// `pairs(node, what:, allowed: nil)` for the large mappings (`tools`, `scopes`) without building an array of
    /// their entries: reports the same key errors, then returns the mapping and how many keys are valid. Iterate
    /// it skipping the keys ``entryKey(_:)`` refuses.
    mutating func entries(_ node: YAMLNode, what: @autoclosure () -> String) -> (mapping: YAMLNode.Pairs, count: Int)? {
        if node.isNull { return nil }
        guard let mapping = node.mapping else {
            wrongType(node, expected: "a mapping", what: what())
            return nil
        }
        var count = 0
        for (k, _) in mapping {
            guard Self.entryKey(k) != nil else {
                badKey(k, what: what())
                continue
            }
            count += 1
        }
        return (mapping, count)
    }

    /// Reports a mapping key that ``entryKey(_:)`` refuses.
    mutating func badKey(_ k: YAMLNode, what: @autoclosure () -> String) {
        error(
            .wrongType, "keys of \(what()) must be non-empty strings", k.location, help: "use a plain name as the key")
    }

    /// The key of a mapping entry, or nil when it is not a non-empty string.
    static func entryKey(_ k: YAMLNode) -> String? {
        guard let key = k.string ?? (k.isNull ? "" : nil), !key.isEmpty else { return nil }
        return key
    }

    mutating func pairs(_ node: YAMLNode, what: @autoclosure () -> String, allowed: [String]?) -> [(
        key: String, keyNode: YAMLNode, value: YAMLNode
    )]? {
        if node.isNull { return [] }
        guard let mapping = node.mapping else {
            wrongType(node, expected: "a mapping", what: what())
            return nil
        }
        var result: [(key: String, keyNode: YAMLNode, value: YAMLNode)] = []
        for (k, v) in mapping {
            guard let key = Self.entryKey(k) else {
                badKey(k, what: what())
                continue
            }
            if let allowed, !allowed.contains(key) {
                let suggestion = Suggest.closest(to: key, in: allowed)
                error(
                    .unknownKey,
                    "unknown key `\(key)` in \(what())" + (suggestion.map { "; did you mean `\($0)`?" } ?? ""),
                    k.location,
                    help: suggestion.map { "rename it to `\($0)`" }
                        ?? "allowed keys: \(allowed.map { "`\($0)`" }.joined(separator: ", "))")
                continue
            }
            result.append((key, k, v))
        }
        return result
    }

    mutating func string(_ node: YAMLNode, what: @autoclosure () -> String) -> String? {
        guard let s = node.string, !node.isMapping, !node.isSequence else {
            wrongType(node, expected: "a string", what: what())
            return nil
        }
        return s
    }

    /// A `mode:` value: `enforce` or `shadow`.
    mutating func mode(_ node: YAMLNode, what: @autoclosure () -> String) -> PolicyMode? {
        guard let text = string(node, what: what()) else { return nil }
        guard let mode = PolicyMode(rawValue: text) else {
            let names = PolicyMode.allCases.map(\.rawValue)
            let suggestion = Suggest.closest(to: text, in: names)
            error(
                .invalidValue,
                "unknown mode `\(text)` in \(what())" + (suggestion.map { "; did you mean `\($0)`?" } ?? ""),
                node.location,
                help: "write `enforce` (denials are refused) or `shadow` (denials are logged, not refused)")
            return nil
        }
        return mode
    }

    mutating func bool(_ node: YAMLNode, what: @autoclosure () -> String) -> Bool? {
        guard let b = node.boolValue else {
            wrongType(node, expected: "`true` or `false`", what: what())
            return nil
        }
        return b
    }

    /// A list of strings; a single string is accepted as a one-element list.
    mutating func strings(_ node: YAMLNode, what: @autoclosure () -> String) -> [(String, SourceLocation)]? {
        if node.isNull { return [] }
        if let items = node.sequence {
            var out: [(String, SourceLocation)] = []
            for item in items {
                if let s = string(item, what: "each entry of \(what())") { out.append((s, item.location)) }
            }
            return out
        }
        if let s = node.string { return [(s, node.location)] }
        wrongType(node, expected: "a list of strings", what: what())
        return nil
    }

    // MARK: file

    mutating func decodeFile(_ root: YAMLNode?) -> FileDeclarations {
        var decl = FileDeclarations(path: path)
        guard let root else { return decl }
        guard let top = pairs(root, what: "the policy", allowed: Self.rootKeys) else { return decl }
        for (key, keyNode, value) in top {
            decl.sectionLocations[key] = keyNode.location
            switch key {
            case "version":
                if let n = value.numberValue, let i = Int(exactly: NSDecimalNumber(decimal: n).doubleValue) {
                    decl.version = (i, value.location)
                    if i != 1 {
                        error(
                            .unsupportedVersion, "unsupported policy version `\(i)`", value.location,
                            help: "this ScopeGate reads `version: 1`")
                    }
                } else {
                    wrongType(value, expected: "the number 1", what: "`version`")
                }
            case "include":
                decl.includes = strings(value, what: "`include`") ?? []
            case "resource": decl.resource = decodeResource(value)
            case "tokens": decl.tokens = decodeTokens(value)
            case "scopes": decl.scopes = decodeScopes(value)
            case "tools": decl.tools = decodeTools(value)
            case "methods": decl.methods = decodePatternRules(value, section: "methods")
            case "resources": decl.resources = decodePatternRules(value, section: "resources")
            case "prompts": decl.prompts = decodePatternRules(value, section: "prompts")
            case "clients": decl.clients = decodeClients(value)
            case "mode": decl.mode = mode(value, what: "`mode`")
            case "audit":
                var audit = AuditConfig()
                for (k, _, v) in pairs(value, what: "`audit`", allowed: ["arguments"]) ?? [] where k == "arguments" {
                    audit.arguments = (strings(v, what: "`audit.arguments`") ?? []).map(\.0)
                }
                decl.audit = (audit, keyNode.location)
            default: break
            }
        }
        return decl
    }
}
