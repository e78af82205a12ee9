import Foundation

/// Pass 5, analyse: lint rules over the resolved model — unsafe token settings, wildcard reach, resource
/// metadata, unused scopes, confused-deputy downstream exchanges.
enum AnalysePass {
    static let defaultAlgorithms = ["RS256", "ES256"]

    static func run(_ state: inout CompilerState) {
        emptyWildcards(&state)
        tokens(&state)
        downstream(&state)
        publicCatchAlls(&state)
        shadowModes(&state)
        // Rules below need closures: only meaningful when the model is error-free so far.
        guard !state.diagnostics.hasErrors else { return }
        // Lowered once: `CompileResult.compiled()` reuses these tables, so nothing below (or after this pass) may
        // change what lowering reads: scopes, tools, resources, prompts, methods and their requirements.
        let compiled = CompiledPolicy(model: state.model)
        state.lowered = compiled
        broadWildcards(compiled, &state)
        unusedScopes(compiled, &state)
        scopesSupported(compiled, &state)
        clientProfiles(compiled, &state)
    }

    static func emptyWildcards(_ state: inout CompilerState) {
        for scope in state.model.scopes where scope.isWildcard && scope.covers.isEmpty {
            state.report(
                .emptyWildcard, "wildcard `\(scope.name)` covers no defined scope", at: scope.location,
                help: "define scopes under `\(scope.wildcardPrefix)` or remove the wildcard")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host == "::1" || host.hasPrefix("127.")
    }

    /// `nil` when `uri` is https, or http on loopback; else the problem.
    static func insecure(_ uri: String) -> String? {
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), let host = url.host else {
            return "`\(uri)` is not an absolute URL"
        }
        if scheme == "https" { return nil }
        if scheme == "http", isLoopback(host) { return nil }
        return "`\(uri)` is not https"
    }

    static func tokens(_ state: inout CompilerState) {
        guard var tokens = state.model.tokens else { return }
        let resourceID = state.model.resource?.id
        for i in tokens.issuers.indices {
            var issuer = tokens.issuers[i]
            if issuer.audiences.isEmpty {
                if let resourceID {
                    issuer.audiences = [resourceID]
                } else {
                    state.report(
                        .noAudience, "issuer `\(issuer.issuer)` accepts tokens for any audience", at: issuer.location,
                        help: "set `resource.id` (the expected audience) or `audiences:` on the issuer")
                }
            }
            if issuer.algorithms.isEmpty { issuer.algorithms = defaultAlgorithms }
            for alg in issuer.algorithms {
                let upper = alg.uppercased()
                if upper == "NONE" || upper.hasPrefix("HS") {
                    state.report(
                        .unsafeAlgorithm, "algorithm `\(alg)` is not safe with a public key set", at: issuer.location,
                        help:
                            "allow only asymmetric algorithms (RS256, PS256, ES256, ES384, EdDSA); `none` and HMAC let anyone who knows the public key forge tokens"
                    )
                }
            }
            if let jwks = issuer.jwksURI, let problem = insecure(jwks) {
                state.report(
                    .insecureJWKS, "jwks_uri \(problem)", at: issuer.location,
                    help: "fetch keys over https (plain http is allowed only on loopback, for tests)")
            }
            if issuer.jwksURI == nil, let problem = insecure(issuer.issuer) {
                state.report(
                    .insecureJWKS, "keys would be discovered from issuer \(problem)", at: issuer.location,
                    help: "use an https issuer, or set an https `jwks_uri`")
            }
            if let introspection = issuer.introspection, let problem = insecure(introspection.endpoint) {
                state.report(
                    .insecureJWKS, "introspection endpoint \(problem)", at: issuer.location,
                    help: "introspect over https (plain http is allowed only on loopback, for tests)")
            }
            if let exchange = issuer.exchange, let problem = insecure(exchange.endpoint) {
                state.report(
                    .insecureJWKS, "token exchange endpoint \(problem)", at: issuer.location,
                    help: "exchange tokens over https (plain http is allowed only on loopback, for tests)")
            }
            tokens.issuers[i] = issuer
        }
        if tokens.leewaySeconds > 300 {
            state.report(
                .largeLeeway, "leeway of \(tokens.leewaySeconds) s accepts tokens long expired", at: tokens.location,
                help: "keep `leeway_seconds` at 300 or less (60 is usual)")
        }
        state.model.tokens = tokens
    }

    static func downstream(_ state: inout CompilerState) {
        let tools = state.model.tools
        for t in tools.indices where tools[t].isPublic && tools[t].downstream != nil {
            let tool = tools[t]
            state.report(
                .publicDownstream, "public tool `\(tool.pattern)` exchanges tokens for a downstream API",
                at: tool.downstream?.location ?? tool.location,
                help: "any valid token could make the server act downstream (confused deputy); require a scope")
        }
        // A downstream exchange needs an issuer with `exchange:`: the named one, or (issuer omitted) the token's own,
        // i.e. any configured issuer. Without one every call of the tool fails (closed) at run time.
        // A policy without issuers gets its `tokens:` from the embedding code; nothing to check against then.
        let issuers = state.model.tokens?.issuers ?? []
        for t in tools.indices where !issuers.isEmpty {
            guard let downstream = tools[t].downstream else { continue }
            let tool = tools[t]
            let candidates = downstream.issuer.map { name in issuers.filter { $0.issuer == name } } ?? issuers
            // An unknown named issuer is SG208 already.
            if downstream.issuer != nil && candidates.isEmpty { continue }
            guard !candidates.contains(where: { $0.exchange != nil }) else { continue }
            let reason =
                downstream.issuer.map { "issuer `\($0)` has no `exchange:` settings" }
                ?? "no issuer in `tokens.issuers` has `exchange:` settings"
            state.report(
                .downstreamWithoutExchange, "downstream of `\(tool.pattern)` cannot be exchanged: \(reason)",
                at: downstream.location,
                help:
                    "add `exchange: { endpoint, client_id, client_secret_env }` to the issuer under `tokens.issuers`; until then every call of the tool fails"
            )
        }
    }

    /// A public rule whose glob matches every name (`"*"`, `"**"`) makes every tool, method, resource or prompt
    /// callable with any valid token, including names added to the server later: fail-open by accident.
    static func publicCatchAlls(_ state: inout CompilerState) {
        func check(_ section: String, _ noun: String, _ rules: [some LowerableRule]) {
            for rule in rules where rule.isPublic && Glob.isCatchAll(rule.pattern) {
                state.report(
                    .publicCatchAll,
                    "public catch-all `\(rule.pattern)` under `\(section)` lets any valid token call every \(noun)",
                    at: rule.location,
                    help:
                        "list the public \(noun)s by name, or require a scope on the catch-all; unknown names are denied without it"
                )
            }
        }
        check("tools", "tool", state.model.tools)
        check("methods", "method", state.model.methods)
        check("resources", "resource", state.model.resources)
        check("prompts", "prompt", state.model.prompts)
    }

    /// `mode: shadow` lets denials through (they are only logged): right while a policy is rolled out, a hole if
    /// it is forgotten. Reported once for the top level, else once per shadowed tool.
    static func shadowModes(_ state: inout CompilerState) {
        let help = "set `mode: enforce` (or remove `mode`) once the audit log shows no unexpected `would_deny` events"
        if state.model.mode == .shadow, let location = state.model.modeLocation {
            state.report(
                .shadowMode, "the policy is in shadow mode: denials are logged, not enforced", at: location,
                help: help)
            return
        }
        for tool in state.model.tools where tool.mode == .shadow {
            state.report(
                .shadowMode, "tool `\(tool.pattern)` is in shadow mode: its denials are logged, not enforced",
                at: tool.location, help: help)
        }
    }

    static func broadWildcards(_ compiled: CompiledPolicy, _ state: inout CompilerState) {
        for scope in state.model.scopes where scope.isWildcard && scope.risk != .admin {
            guard let id = compiled.scopes.id(scope.name) else { continue }
            let adminReached = compiled.scopes.members(of: id).filter { compiled.scopes.risk(of: $0) == .admin }
            guard !adminReached.isEmpty else { continue }
            let names = adminReached.prefix(3).map { "`\(compiled.scopes.name(of: $0))`" }.joined(separator: ", ")
            state.report(
                .broadWildcard,
                "wildcard `\(scope.name)` reaches admin-risk scope\(adminReached.count > 1 ? "s" : "") \(names)",
                at: scope.location,
                help: "narrow the wildcard, or mark it `risk: admin` so least-privilege and reviews see its reach")
        }
    }

    static func unusedScopes(_ compiled: CompiledPolicy, _ state: inout CompilerState) {
        // Every requirement of the model is lowered into the clause table (tools, their conditions and actions,
        // methods, resources, prompts), so the scopes it names are the ids found there (undefined names are
        // `ScopeID.max`, outside the set).
        var required = ScopeSet(capacity: compiled.scopes.count)
        for id in compiled.clauseIDs { required.insert(id) }
        // Scope ids are the scopes' positions in the model (the table is built from `model.scopes` in order).
        let scopes = state.model.scopes
        for i in scopes.indices where !scopes[i].isExternal {
            let id = ScopeID(i)
            if !compiled.scopes.members(of: id).contains(where: { required.contains($0) }) {
                state.report(
                    .unusedScope,
                    "scope `\(scopes[i].name)` unlocks nothing: no requirement names it or anything it implies",
                    at: scopes[i].location,
                    help:
                        "require it somewhere, remove it if it is left over, or mark it `external: true` if it mirrors an outside catalogue"
                )
            }
        }
    }

    static func scopesSupported(_ compiled: CompiledPolicy, _ state: inout CompilerState) {
        guard var resource = state.model.resource else { return }
        let allScopes = Set(state.model.scopes.map(\.name))
        switch resource.scopesSupported {
        case .explicit(let list):
            resource.resolvedScopesSupported = list
            if list.count > 1, Set(list) == allScopes || (allScopes.subtracting(list).isEmpty) {
                state.report(
                    .scopesSupportedAll, "`scopes_supported` lists every scope", at: resource.location,
                    help: "list the minimal set a client needs to start, or use `scopes_supported: auto`")
            }
            for name in list where !allScopes.contains(name) && name != "offline_access" && name != "openid" {
                ResolvePass.undefined(name, resource.location, context: "scopes_supported", &state)
            }
        case .auto:
            let basic = state.model.tools.filter(\.basic)
            let chosen = basic.isEmpty ? state.model.tools.filter(\.isPublic) : basic
            let targets = chosen.map { ToolSelection(tool: $0.pattern) }
            let result = LeastPrivilegeSolver(policy: compiled).solve(targets)
            resource.resolvedScopesSupported = result.scopes
            if result.scopes.isEmpty {
                state.report(
                    .scopesSupportedEmpty, "`scopes_supported: auto` comes out empty", at: resource.location,
                    help:
                        "mark the tools a client needs to start with `basic: true`, or list `scopes_supported` explicitly"
                )
            }
        }
        if resource.resolvedScopesSupported.contains("offline_access") {
            state.report(
                .scopesSupportedOfflineAccess, "`scopes_supported` lists `offline_access`", at: resource.location,
                help: "refresh tokens are the authorization server's business; do not advertise `offline_access`")
        }
        state.model.resource = resource
    }

    static func clientProfiles(_ compiled: CompiledPolicy, _ state: inout CompilerState) {
        let solver = LeastPrivilegeSolver(policy: compiled)
        for client in state.model.clients {
            guard let granted = client.scopes else { continue }
            let targets = client.tools.map { ToolSelection(tool: $0.tool, actions: $0.actions) }
            let best = solver.solve(targets)
            guard best.satisfiable else { continue }
            let grantedCost = compiled.scopes.cost(ofNames: granted)
            let satisfies = solver.satisfies(names: granted, targets)
            if !satisfies {
                state.report(
                    .excessClientScopes, "client `\(client.name)` is not granted enough to call its tools",
                    at: client.location,
                    help:
                        "grant \(best.scopes.map { "`\($0)`" }.joined(separator: ", ")) (least privilege, cost \(best.cost))"
                )
            } else if grantedCost > best.cost {
                let excess = granted.filter { !best.scopes.contains($0) }
                state.report(
                    .excessClientScopes,
                    "client `\(client.name)` is granted more than least privilege (cost \(grantedCost) vs \(best.cost))"
                        + (excess.isEmpty ? "" : ": \(excess.map { "`\($0)`" }.joined(separator: ", ")) exceed it"),
                    at: client.scopeLocations.first ?? client.location,
                    help: "grant \(best.scopes.map { "`\($0)`" }.joined(separator: ", ")) instead")
            }
        }
    }
}
