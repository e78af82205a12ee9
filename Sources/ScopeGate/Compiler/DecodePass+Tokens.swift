import Foundation

// Decoding of the `resource` and `tokens` sections.
extension DecodePass {
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
            case "publish_requirements":
                config.publishRequirements = bool(value, what: "`resource.publish_requirements`") ?? false
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

    /// The enumeration case named `text`, or nil after an SG105 `message` at `node`.
    mutating func oneOf<Value: RawRepresentable>(
        _ text: String, at node: YAMLNode, _ message: String, help: String
    ) -> Value? where Value.RawValue == String {
        if let value = Value(rawValue: text) { return value }
        error(.invalidValue, message, node.location, help: help)
        return nil
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
                grant =
                    oneOf(
                        s, at: v, "`exchange.grant` must be `token_exchange` or `on_behalf_of`",
                        help: "`token_exchange` is RFC 8693 (the default); `on_behalf_of` is Microsoft Entra's flow")
                    ?? grant
            } else if k == "target" {
                target =
                    oneOf(
                        s, at: v, "`exchange.target` must be `audience`, `resource` or `both`",
                        help:
                            "`audience` sends `audience=` (the default), `resource` sends `resource=`, `both` sends both"
                    ) ?? target
            } else if k == "client_auth" {
                method =
                    oneOf(
                        s, at: v, "`exchange.client_auth` must be `client_secret_basic` or `client_secret_post`",
                        help: "use `client_secret_basic` (HTTP Basic, the default) or `client_secret_post` (form body)")
                    ?? method
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
}
