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
    var sectionLocations: [String: SourceLocation] = [:]
}

/// Pass 1, decode: keys and types of one file's tree, unknown keys with "did you mean".
struct DecodePass {
    static let rootKeys = [
        "version", "resource", "tokens", "scopes", "tools", "methods", "resources", "prompts",
        "clients", "audit", "include",
    ]
    static let resourceKeys = ["id", "authorization_servers", "scopes_supported", "documentation"]
    static let tokensKeys = ["issuers", "leeway_seconds", "scope_claims", "require_typ"]
    static let issuerKeys = [
        "issuer", "jwks_uri", "algorithms", "audiences", "scope_claims", "roles", "strip_prefixes",
        "introspection", "exchange",
    ]
    static let scopeKeys = ["description", "risk", "implies", "deprecated"]
    static let toolKeys = [
        "requires", "description", "public", "basic", "action_argument", "actions", "when", "downstream",
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

    // MARK: resource and tokens

    mutating func decodeResource(_ node: YAMLNode) -> ResourceConfig? {
        guard let items = pairs(node, what: "`resource`", allowed: Self.resourceKeys) else { return nil }
        var config = ResourceConfig(
            id: nil, authorizationServers: [], scopesSupported: .auto, documentation: nil,
            location: node.location)
        for (key, _, value) in items {
            switch key {
            case "id": config.id = string(value, what: "`resource.id`")
            case "authorization_servers":
                config.authorizationServers = (strings(value, what: "`resource.authorization_servers`") ?? []).map(\.0)
            case "scopes_supported":
                if value.string == "auto" {
                    config.scopesSupported = .auto
                } else if value.isSequence {
                    config.scopesSupported = .explicit(
                        (strings(value, what: "`resource.scopes_supported`") ?? []).map(\.0))
                } else {
                    wrongType(value, expected: "`auto` or a list of scopes", what: "`resource.scopes_supported`")
                }
            case "documentation": config.documentation = string(value, what: "`resource.documentation`")
            default: break
            }
        }
        return config
    }

    mutating func decodeTokens(_ node: YAMLNode) -> TokensConfig? {
        guard let items = pairs(node, what: "`tokens`", allowed: Self.tokensKeys) else { return nil }
        var config = TokensConfig(issuers: [], location: node.location)
        for (key, _, value) in items {
            switch key {
            case "issuers":
                guard let list = value.sequence else {
                    wrongType(value, expected: "a list of issuers", what: "`tokens.issuers`")
                    continue
                }
                config.issuers = list.compactMap { decodeIssuer($0) }
            case "leeway_seconds":
                if let n = value.numberValue, let i = Int(exactly: NSDecimalNumber(decimal: n).doubleValue), i >= 0 {
                    config.leewaySeconds = i
                } else {
                    wrongType(value, expected: "a whole number of seconds", what: "`tokens.leeway_seconds`")
                }
            case "scope_claims": config.scopeClaims = (strings(value, what: "`tokens.scope_claims`") ?? []).map(\.0)
            case "require_typ": config.requireTyp = string(value, what: "`tokens.require_typ`")
            default: break
            }
        }
        return config
    }

    mutating func decodeIssuer(_ node: YAMLNode) -> TokensConfig.Issuer? {
        guard let items = pairs(node, what: "an issuer", allowed: Self.issuerKeys) else { return nil }
        var issuer = TokensConfig.Issuer(issuer: "", algorithms: [], audiences: [], location: node.location)
        var sawIssuer = false
        for (key, _, value) in items {
            switch key {
            case "issuer":
                issuer.issuer = string(value, what: "`issuer`") ?? ""
                sawIssuer = true
            case "jwks_uri": issuer.jwksURI = string(value, what: "`jwks_uri`")
            case "algorithms": issuer.algorithms = (strings(value, what: "`algorithms`") ?? []).map(\.0)
            case "audiences": issuer.audiences = (strings(value, what: "`audiences`") ?? []).map(\.0)
            case "scope_claims": issuer.scopeClaims = (strings(value, what: "`scope_claims`") ?? []).map(\.0)
            case "strip_prefixes": issuer.stripPrefixes = (strings(value, what: "`strip_prefixes`") ?? []).map(\.0)
            case "roles":
                var claim = "roles"
                var map: [String: [String]] = [:]
                for (k, _, v) in pairs(value, what: "`roles`", allowed: ["claim", "map"]) ?? [] {
                    if k == "claim" { claim = string(v, what: "`roles.claim`") ?? claim }
                    if k == "map" {
                        for (role, _, scopes) in pairs(v, what: "`roles.map`", allowed: nil) ?? [] {
                            map[role] = (strings(scopes, what: "the scopes of role `\(role)`") ?? []).map(\.0)
                        }
                    }
                }
                issuer.roles = TokensConfig.RoleMapping(claim: claim, map: map)
            case "introspection":
                var endpoint = ""
                var clientID = ""
                var secretEnv = ""
                let keys = ["endpoint", "client_id", "client_secret_env"]
                for (k, _, v) in pairs(value, what: "`introspection`", allowed: keys) ?? [] {
                    let s = string(v, what: "`introspection.\(k)`") ?? ""
                    switch k {
                    case "endpoint": endpoint = s
                    case "client_id": clientID = s
                    default: secretEnv = s
                    }
                }
                for (k, v) in [("endpoint", endpoint), ("client_id", clientID), ("client_secret_env", secretEnv)]
                where v.isEmpty {
                    error(
                        .missingKey, "`introspection` needs `\(k)`", value.location,
                        help: k == "client_secret_env"
                            ? "name the environment variable holding the secret; secrets never go in the policy"
                            : "add `\(k):`")
                }
                issuer.introspection = .init(endpoint: endpoint, clientID: clientID, clientSecretEnv: secretEnv)
            case "exchange":
                issuer.exchange = decodeExchange(value)
            default: break
            }
        }
        if !sawIssuer {
            error(
                .missingKey, "an issuer needs `issuer`", node.location,
                help: "add `issuer: https://…` (the exact `iss` of its tokens)")
            return nil
        }
        return issuer
    }

    /// `exchange: { endpoint, client_id, client_secret_env, client_auth? }` of an issuer (RFC 8693).
    mutating func decodeExchange(_ node: YAMLNode) -> TokensConfig.Exchange? {
        let keys = [
            "endpoint", "client_id", "client_secret_env", "client_auth", "target", "grant", "subject_token_type",
        ]
        guard let items = pairs(node, what: "`exchange`", allowed: keys) else { return nil }
        var values: [String: String] = [:]
        var method = TokensConfig.Exchange.ClientAuthentication.basic
        var target = TokensConfig.Exchange.Target.audience
        var grant = TokensConfig.Exchange.Grant.tokenExchange
        var subjectTokenType: String?
        for (k, _, v) in items {
            let s = string(v, what: "`exchange.\(k)`") ?? ""
            if k == "subject_token_type" {
                subjectTokenType = s.isEmpty ? nil : s
            } else if k == "grant" {
                if let g = TokensConfig.Exchange.Grant(rawValue: s) {
                    grant = g
                } else {
                    error(
                        .invalidValue, "`exchange.grant` must be `token_exchange` or `on_behalf_of`", v.location,
                        help: "`token_exchange` is RFC 8693 (the default); `on_behalf_of` is Microsoft Entra's flow")
                }
            } else if k == "target" {
                if let t = TokensConfig.Exchange.Target(rawValue: s) {
                    target = t
                } else {
                    error(
                        .invalidValue, "`exchange.target` must be `audience`, `resource` or `both`", v.location,
                        help:
                            "`audience` sends `audience=` (the default), `resource` sends `resource=`, `both` sends both"
                    )
                }
            } else if k == "client_auth" {
                if let m = TokensConfig.Exchange.ClientAuthentication(rawValue: s) {
                    method = m
                } else {
                    error(
                        .invalidValue, "`exchange.client_auth` must be `client_secret_basic` or `client_secret_post`",
                        v.location,
                        help: "use `client_secret_basic` (HTTP Basic, the default) or `client_secret_post` (form body)")
                }
            } else {
                values[k] = s
            }
        }
        var complete = true
        for k in ["endpoint", "client_id", "client_secret_env"] where (values[k] ?? "").isEmpty {
            complete = false
            error(
                .missingKey, "`exchange` needs `\(k)`", node.location,
                help: k == "client_secret_env"
                    ? "name the environment variable holding the secret; secrets never go in the policy"
                    : "add `\(k):`")
        }
        guard complete, let endpoint = values["endpoint"], let clientID = values["client_id"],
            let secretEnv = values["client_secret_env"]
        else { return nil }
        return .init(
            endpoint: endpoint, clientID: clientID, clientSecretEnv: secretEnv, clientAuthentication: method,
            target: target, grant: grant, subjectTokenType: subjectTokenType)
    }

    // MARK: scopes

    mutating func decodeScopes(_ node: YAMLNode) -> [ScopeDefinition] {
        guard let entries = entries(node, what: "`scopes`") else { return [] }
        var out: [ScopeDefinition] = []
        out.reserveCapacity(entries.count)
        for (keyNode, value) in entries.mapping {
            guard let name = Self.entryKey(keyNode) else { continue }
            var def = ScopeDefinition(
                name: name, location: keyNode.location, description: nil, risk: .normal,
                implies: [], impliesLocations: [], deprecatedUse: nil)
            if let text = value.string, !value.isMapping {
                def.description = text  // `scope: text` shorthand for a description
            }
            if value.string == nil || value.isMapping || value.isNull {
                for (key, _, v) in pairs(value, what: "scope `\(name)`", allowed: Self.scopeKeys) ?? [] {
                    switch key {
                    case "description": def.description = string(v, what: "`description`")
                    case "risk":
                        if let s = string(v, what: "`risk`") {
                            if let risk = Risk(rawValue: s) {
                                def.risk = risk
                            } else {
                                error(
                                    .invalidValue,
                                    "unknown risk `\(s)`" + Suggest.clause(s, Risk.allCases.map(\.rawValue)),
                                    v.location, help: "use one of `low`, `normal`, `sensitive`, `admin`")
                            }
                        }
                    case "implies":
                        for (s, l) in strings(v, what: "`implies`") ?? [] {
                            def.implies.append(s)
                            def.impliesLocations.append(l)
                        }
                    case "deprecated":
                        for (k, _, dv) in pairs(v, what: "`deprecated`", allowed: ["use"]) ?? [] where k == "use" {
                            if let use = string(dv, what: "`deprecated.use`") {
                                def.deprecatedUse = use
                                def.implies.append(use)
                                def.impliesLocations.append(dv.location)
                            }
                        }
                    default: break
                    }
                }
            }
            out.append(def)
        }
        return out
    }

    // MARK: requirements

    mutating func requirement(_ node: YAMLNode, what: @autoclosure () -> String) -> Requirement? {
        guard let expression = expression(node, what: what()) else { return nil }
        return Requirement(expression: expression, clauses: [])
    }

    mutating func expression(_ node: YAMLNode, what: @autoclosure () -> String) -> RequirementExpression? {
        if let s = node.string, !node.isMapping, !node.isSequence { return .scope(s, node.location) }
        if node.isSequence {
            wrongType(
                node, expected: "a scope or `{all: […]}` / `{any: […]}`", what: what(),
                help: "a bare list is ambiguous: write `{all: […]}` (every scope) or `{any: […]}` (one of them)")
            return nil
        }
        guard let items = pairs(node, what: what(), allowed: ["all", "any"]) else { return nil }
        guard items.count == 1, let (key, keyNode, value) = items.first else {
            if items.isEmpty, node.mapping?.isEmpty == false { return nil }  // unknown key already reported
            error(
                .wrongType, "\(what()) must have exactly one of `all` or `any`", node.location,
                help: "nest them: `{all: [a, {any: [b, c]}]}`")
            return nil
        }
        guard let list = value.sequence else {
            wrongType(value, expected: "a list", what: "`\(key)`")
            return nil
        }
        if list.isEmpty {
            error(
                .emptyAlternatives, "`\(key): []` is empty", keyNode.location,
                help: key == "any"
                    ? "an empty `any` can never be satisfied; list at least one scope"
                    : "an empty `all` requires nothing; remove it or use `public: true`")
            return nil
        }
        let children = list.compactMap { expression($0, what: "an entry of `\(key)`") }
        guard children.count == list.count else { return nil }
        return key == "all" ? .all(children, keyNode.location) : .any(children, keyNode.location)
    }

    // MARK: conditions

    mutating func conditions(_ node: YAMLNode) -> [ArgumentCondition] {
        var out: [ArgumentCondition] = []
        for (name, keyNode, value) in pairs(node, what: "`arguments`", allowed: nil) ?? [] {
            var matchers: [ArgumentMatcher] = []
            if let mapping = value.mapping, !mapping.isEmpty {
                for (op, _, v) in pairs(value, what: "the matcher of `\(name)`", allowed: Self.matcherKeys) ?? [] {
                    if let m = matcher(op, v) { matchers.append(m) }
                }
            } else if value.isSequence {
                wrongType(
                    value, expected: "a literal or a matcher mapping", what: "the condition on `\(name)`",
                    help: "to match one of several values write `{in: […]}`")
            } else {
                matchers.append(.equals(value.jsonValue))
            }
            if !matchers.isEmpty {
                out.append(ArgumentCondition(argument: name, matchers: matchers, location: keyNode.location))
            }
        }
        return out
    }

    mutating func matcher(_ op: String, _ v: YAMLNode) -> ArgumentMatcher? {
        func literal(_ node: YAMLNode) -> JSONValue? {
            if node.isMapping || node.isSequence {
                error(
                    .invalidCondition, "`\(op)` compares with a scalar literal, found \(node.typeName)", node.location,
                    help: "use a string, number, boolean or null")
                return nil
            }
            return node.jsonValue
        }
        func literals(_ node: YAMLNode) -> [JSONValue]? {
            guard let items = node.sequence else {
                error(
                    .invalidCondition, "`\(op)` takes a list of literals, found \(node.typeName)", node.location,
                    help: "write `\(op): [a, b]`")
                return nil
            }
            let values = items.compactMap(literal)
            guard values.count == items.count else { return nil }
            if Set(values.map(\.typeName)).count > 1 {
                error(
                    .invalidCondition,
                    "`\(op)` mixes types (\(Set(values.map(\.typeName)).sorted().joined(separator: ", ")))",
                    node.location, help: "types compare strictly; quote numbers that are meant as strings")
                return nil
            }
            return values
        }
        func number(_ node: YAMLNode) -> Decimal? {
            guard let n = node.numberValue else {
                error(
                    .invalidCondition, "`\(op)` compares numbers, found \(node.typeName)", node.location,
                    help: "write an unquoted number, e.g. `\(op): 1000`")
                return nil
            }
            return n
        }
        func text(_ node: YAMLNode) -> String? {
            guard !node.isMapping, !node.isSequence, !node.isNull, let s = node.string else {
                error(
                    .invalidCondition, "`\(op)` takes a string, found \(node.typeName)", node.location,
                    help: "write a string, e.g. `\(op): \"/tmp/\"`")
                return nil
            }
            return s
        }
        switch op {
        case "equals": return literal(v).map { .equals($0) }
        case "in": return literals(v).map { .in($0) }
        case "not_in": return literals(v).map { .notIn($0) }
        case "gt": return number(v).map { .gt($0) }
        case "gte": return number(v).map { .gte($0) }
        case "lt": return number(v).map { .lt($0) }
        case "lte": return number(v).map { .lte($0) }
        case "prefix": return text(v).map { .prefix($0) }
        case "glob": return text(v).map { .glob($0) }
        case "exists":
            guard let b = v.boolValue else {
                error(
                    .invalidCondition, "`exists` takes `true` or `false`, found \(v.typeName)", v.location,
                    help: "write `exists: true` or `exists: false`")
                return nil
            }
            return .exists(b)
        default: return nil
        }
    }

    mutating func whenList(_ node: YAMLNode, what: @autoclosure () -> String) -> [ConditionalRequirement] {
        guard let items = node.sequence else {
            wrongType(node, expected: "a list of `{arguments, requires}` entries", what: what())
            return []
        }
        var out: [ConditionalRequirement] = []
        for item in items {
            var conds: [ArgumentCondition] = []
            var req: Requirement?
            var sawArguments = false
            for (key, _, value) in pairs(item, what: "a `when` entry", allowed: Self.whenKeys) ?? [] {
                if key == "arguments" {
                    conds = conditions(value)
                    sawArguments = true
                }
                if key == "requires" { req = requirement(value, what: "`requires`") }
            }
            guard item.isMapping else { continue }
            if !sawArguments {
                error(
                    .missingKey, "a `when` entry needs `arguments`", item.location,
                    help:
                        "add `arguments: { name: matcher }`; for an unconditional requirement use the tool's `requires`"
                )
                continue
            }
            guard let req else {
                if item.mapping?.contains(where: { $0.key.string == "requires" }) == false {
                    error(
                        .missingKey, "a `when` entry needs `requires`", item.location,
                        help: "add the scopes required when the arguments match")
                }
                continue
            }
            if !conds.isEmpty {
                out.append(ConditionalRequirement(conditions: conds, requirement: req, location: item.location))
            }
        }
        return out
    }

    // MARK: tools

    mutating func decodeTools(_ node: YAMLNode) -> [ToolRule] {
        guard let entries = entries(node, what: "`tools`") else { return [] }
        var out: [ToolRule] = []
        out.reserveCapacity(entries.count)  // grown by doubling, a 10,000-tool array would peak at 1.6× its size
        for (keyNode, value) in entries.mapping {
            guard let name = Self.entryKey(keyNode) else { continue }
            var rule = ToolRule(
                pattern: name, location: keyNode.location, description: nil, isPublic: false, basic: false,
                requirement: nil, actionArgument: nil, actions: nil, when: [], downstream: nil)
            if !value.isMapping {
                if value.isNull {
                    error(
                        .noRequirement, "tool `\(name)` has no requirement", keyNode.location,
                        help: "add `requires: <scope>`, or `public: true` if any valid token may call it")
                    continue
                }
                rule.requirement = requirement(value, what: "the requirement of tool `\(name)`")
                if rule.requirement != nil { out.append(rule) }
                continue
            }
            if let mapping = value.mapping, !mapping.isEmpty,
                mapping.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" })
            {
                rule.requirement = requirement(value, what: "the requirement of tool `\(name)`")
                if rule.requirement != nil { out.append(rule) }
                continue
            }
            var actionNode: YAMLNode?
            for (key, _, v) in pairs(value, what: "tool `\(name)`", allowed: Self.toolKeys) ?? [] {
                switch key {
                case "requires": rule.requirement = requirement(v, what: "`requires`")
                case "description": rule.description = string(v, what: "`description`")
                case "public": rule.isPublic = bool(v, what: "`public`") ?? false
                case "basic": rule.basic = bool(v, what: "`basic`") ?? false
                case "action_argument": rule.actionArgument = string(v, what: "`action_argument`")
                case "actions": actionNode = v
                case "when": rule.when = whenList(v, what: "`when`")
                case "downstream": rule.downstream = decodeDownstream(v)
                default: break
                }
            }
            if let actionNode {
                rule.actions = decodeActions(actionNode, tool: name)
                if rule.actionArgument == nil { rule.actionArgument = "action" }
            } else if rule.actionArgument != nil {
                error(
                    .unsatisfiableRequirement, "tool `\(name)` has `action_argument` but no `actions`",
                    keyNode.location,
                    help: "add `actions:` naming each action and its requirement, or remove `action_argument`",
                    notes: [])
            }
            out.append(rule)
        }
        return out
    }

    mutating func decodeActions(_ node: YAMLNode, tool: String) -> [ActionRule] {
        var out: [ActionRule] = []
        for (name, keyNode, value) in pairs(node, what: "the actions of `\(tool)`", allowed: nil) ?? [] {
            var action = ActionRule(
                name: name, location: keyNode.location, description: nil, requirement: nil, when: [])
            if value.isNull {
                out.append(action)
                continue
            }
            if !value.isMapping
                || value.mapping?.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" }) == true
            {
                action.requirement = requirement(value, what: "the requirement of action `\(name)`")
                if action.requirement != nil { out.append(action) }
                continue
            }
            for (key, _, v) in pairs(value, what: "action `\(name)`", allowed: Self.actionKeys) ?? [] {
                switch key {
                case "requires": action.requirement = requirement(v, what: "`requires`")
                case "description": action.description = string(v, what: "`description`")
                case "when": action.when = whenList(v, what: "`when`")
                default: break
                }
            }
            out.append(action)
        }
        return out
    }

    mutating func decodeDownstream(_ node: YAMLNode) -> DownstreamExchange? {
        guard let items = pairs(node, what: "`downstream`", allowed: Self.downstreamKeys) else { return nil }
        var result = DownstreamExchange(audience: "", scopes: [], issuer: nil, location: node.location)
        for (key, _, value) in items {
            switch key {
            case "audience": result.audience = string(value, what: "`downstream.audience`") ?? ""
            case "scopes": result.scopes = (strings(value, what: "`downstream.scopes`") ?? []).map(\.0)
            case "issuer": result.issuer = string(value, what: "`downstream.issuer`")
            default: break
            }
        }
        if result.audience.isEmpty {
            error(
                .missingKey, "`downstream` needs `audience`", node.location,
                help: "name the downstream API's resource URI, e.g. `audience: https://api.example.com`")
            return nil
        }
        return result
    }

    // MARK: methods, resources, prompts

    mutating func decodePatternRules(_ node: YAMLNode, section: String) -> [PatternRule] {
        var out: [PatternRule] = []
        for (name, keyNode, value) in pairs(node, what: "`\(section)`", allowed: nil) ?? [] {
            var rule = PatternRule(pattern: name, location: keyNode.location, isPublic: false, requirement: nil)
            if value.isMapping, value.mapping?.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" }) == false
            {
                for (key, _, v) in pairs(value, what: "`\(section).\(name)`", allowed: Self.ruleKeys) ?? [] {
                    if key == "requires" { rule.requirement = requirement(v, what: "`requires`") }
                    if key == "public" { rule.isPublic = bool(v, what: "`public`") ?? false }
                }
            } else if !value.isNull {
                rule.requirement = requirement(value, what: "the requirement of `\(name)`")
            }
            if rule.requirement == nil && !rule.isPublic {
                if value.isNull
                    || value.isMapping && !(value.mapping?.contains { $0.key.string == "requires" } ?? false)
                {
                    error(
                        .noRequirement, "`\(section).\(name)` has no requirement", keyNode.location,
                        help: "give it a scope, or `{public: true}` if any valid token may use it")
                }
                continue
            }
            out.append(rule)
        }
        return out
    }

    // MARK: clients

    mutating func decodeClients(_ node: YAMLNode) -> [ClientProfile] {
        var out: [ClientProfile] = []
        for (name, keyNode, value) in pairs(node, what: "`clients`", allowed: nil) ?? [] {
            var client = ClientProfile(
                name: name, location: keyNode.location, description: nil, tools: [], scopes: nil,
                scopeLocations: [])
            for (key, _, v) in pairs(value, what: "client `\(name)`", allowed: Self.clientKeys) ?? [] {
                switch key {
                case "description": client.description = string(v, what: "`description`")
                case "scopes":
                    let list = strings(v, what: "`scopes`") ?? []
                    client.scopes = list.map(\.0)
                    client.scopeLocations = list.map(\.1)
                case "tools":
                    guard let items = v.sequence else {
                        wrongType(v, expected: "a list of tools", what: "`tools`")
                        continue
                    }
                    for item in items {
                        if let s = item.string, !item.isMapping {
                            client.tools.append(ClientToolGrant(tool: s, actions: nil, location: item.location))
                            continue
                        }
                        var grant = ClientToolGrant(tool: "", actions: nil, location: item.location)
                        for (k, _, tv) in pairs(item, what: "a client tool", allowed: ["tool", "actions"]) ?? [] {
                            if k == "tool" { grant.tool = string(tv, what: "`tool`") ?? "" }
                            if k == "actions" { grant.actions = (strings(tv, what: "`actions`") ?? []).map(\.0) }
                        }
                        if grant.tool.isEmpty {
                            if item.isMapping {
                                error(
                                    .missingKey, "a client tool entry needs `tool`", item.location,
                                    help: "write `{tool: name, actions: [a, b]}`")
                            }
                        } else {
                            client.tools.append(grant)
                        }
                    }
                default: break
                }
            }
            out.append(client)
        }
        return out
    }
}
