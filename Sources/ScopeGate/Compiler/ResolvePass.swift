/// Pass 2, resolve: merge files (double definitions), scope names, wildcard coverage, and references from
/// `implies`, requirements and client profiles to defined scopes and tools.
enum ResolvePass {
    static func run(_ state: inout CompilerState) {
        merge(&state)
        checkScopeNames(&state)
        coverWildcards(&state)
        checkImplies(&state)
        forEachRequirement(in: state.model) { requirement, _ in checkReferences(requirement.expression, &state) }
        checkClients(&state)
        checkDownstream(&state)
    }

    // MARK: merge

    static func merge(_ state: inout CompilerState) {
        var globFirst: [String: SourceLocation] = [:]
        var clientFirst: [String: SourceLocation] = [:]
        var ruleFirst: [String: SourceLocation] = [:]
        var singletonFirst: [String: SourceLocation] = [:]
        func double(
            _ kind: String, _ name: String, _ loc: SourceLocation, _ first: SourceLocation, _ state: inout CompilerState
        ) {
            state.report(
                .doubleDefinition, "\(kind) `\(name)` is defined twice", at: loc,
                help: "keep one definition; included files are merged, not overridden",
                notes: [.init("first defined here", at: first)])
        }
        let scopeCount = state.declarations.reduce(0) { $0 + $1.scopes.count }
        let toolCount = state.declarations.reduce(0) { $0 + $1.tools.count }
        state.model.scopeIndex.reserveCapacity(scopeCount)
        state.model.toolIndex.reserveCapacity(toolCount)
        for d in state.declarations.indices {
            // Each file's scopes and tools are taken out of its declarations, the doubles dropped in place, and the
            // rest moved into the model (whole, for the first file), so a large policy's rules are never held twice.
            // One hash per name: the index entry is inserted, and put back in the rare case it was there already.
            var scopes = state.declarations[d].scopes
            state.declarations[d].scopes = []
            let scopeBase = state.model.scopes.count
            var kept = 0
            for i in scopes.indices {
                let scope = scopes[i]
                if let first = Self.claim(scope.name, at: scopeBase + kept, in: &state.model.scopeIndex) {
                    let firstLocation =
                        first < scopeBase ? state.model.scopes[first].location : scopes[first - scopeBase].location
                    double("scope", scope.name, scope.location, firstLocation, &state)
                    continue
                }
                if kept != i { scopes[kept] = scope }
                kept += 1
            }
            scopes.removeLast(scopes.count - kept)
            Self.moveAppend(scopes, to: &state.model.scopes)
            var tools = state.declarations[d].tools
            state.declarations[d].tools = []
            // Exact names are checked through the index (one hash), globs (never equal to an exact name) apart.
            let toolBase = state.model.tools.count
            kept = 0
            for i in tools.indices {
                if tools[i].isGlob {
                    if let first = globFirst[tools[i].pattern] {
                        double("tool", tools[i].pattern, tools[i].location, first, &state)
                        continue
                    }
                    globFirst[tools[i].pattern] = tools[i].location
                } else if let first = Self.claim(tools[i].pattern, at: toolBase + kept, in: &state.model.toolIndex) {
                    let firstLocation =
                        first < toolBase ? state.model.tools[first].location : tools[first - toolBase].location
                    double("tool", tools[i].pattern, tools[i].location, firstLocation, &state)
                    continue
                }
                if kept != i { tools.swapAt(kept, i) }
                kept += 1
            }
            tools.removeLast(tools.count - kept)
            Self.moveAppend(tools, to: &state.model.tools)
            let decl = state.declarations[d]
            for client in decl.clients {
                if let first = clientFirst[client.name] {
                    double("client", client.name, client.location, first, &state)
                    continue
                }
                clientFirst[client.name] = client.location
                state.model.clients.append(client)
            }
            for (section, rules) in [
                ("methods", decl.methods), ("resources", decl.resources), ("prompts", decl.prompts),
            ] {
                for rule in rules {
                    let key = section + "\u{0}" + rule.pattern
                    if let first = ruleFirst[key] {
                        double(String(section.dropLast()), rule.pattern, rule.location, first, &state)
                        continue
                    }
                    ruleFirst[key] = rule.location
                    switch section {
                    case "methods": state.model.methods.append(rule)
                    case "resources": state.model.resources.append(rule)
                    default: state.model.prompts.append(rule)
                    }
                }
            }
            for section in ["resource", "tokens", "audit", "mode"] {
                guard let loc = decl.sectionLocations[section] else { continue }
                if let first = singletonFirst[section] {
                    double("section", section, loc, first, &state)
                    continue
                }
                singletonFirst[section] = loc
                switch section {
                case "resource": state.model.resource = decl.resource
                case "tokens": state.model.tokens = decl.tokens
                case "mode":
                    state.model.mode = decl.mode
                    state.model.modeLocation = loc
                default: state.model.audit = decl.audit?.0 ?? AuditConfig()
                }
            }
        }
        // Everything declared is in the model now; keeping the per-file copies would only add to the peak memory.
        state.declarations.removeAll()
    }

    /// Records `name` at `position` in `index` with one hash; when the name is there already, keeps the earlier
    /// entry and returns its position.
    static func claim(_ name: String, at position: Int, in index: inout [String: Int]) -> Int? {
        guard let first = index.updateValue(position, forKey: name) else { return nil }
        index[name] = first
        return first
    }

    /// Appends `items` to `target`; when `target` is empty, `items` becomes it without a copy.
    static func moveAppend<T>(_ items: consuming [T], to target: inout [T]) {
        if target.isEmpty { target = items } else { target.append(contentsOf: items) }
    }

    // MARK: names

    /// RFC 6749 scope-token characters: %x21 / %x23-5B / %x5D-7E.
    static func isScopeChar(_ b: UInt8) -> Bool { b == 0x21 || (b >= 0x23 && b <= 0x5B) || (b >= 0x5D && b <= 0x7E) }

    /// `nil` if `name` is a valid scope name (wildcards allowed only as a whole last segment), else the problem.
    static func problem(inScopeName name: String, allowWildcard: Bool) -> String? {
        if name.isEmpty { return "a scope name cannot be empty" }
        // One pass over the bytes in place (the generic `first(where:)`/`contains` over `UTF8View` costs a
        // few percent of compiling 10,000 tools): the first byte that is not a scope character, and whether a `*` is.
        var firstBad: UInt8?
        var hasStar = false
        let scanned: Void? = name.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes {
                if b == UInt8(ascii: "*") { hasStar = true }
                if !isScopeChar(b) {
                    firstBad = b
                    break
                }
            }
        }
        if scanned == nil {
            firstBad = name.utf8.first(where: { !isScopeChar($0) })
            hasStar = name.utf8.contains(UInt8(ascii: "*"))
        }
        if let bad = firstBad {
            let shown =
                bad == 0x20
                ? "a space"
                : bad == 0x22
                    ? "`\"`"
                    : bad == 0x5C
                        ? "`\\`"
                        : bad >= 0x80 ? "a non-ASCII character" : "a control character"
            return "scope `\(name)` contains \(shown); scope names use printable ASCII except space, `\"` and `\\`"
        }
        // Byte scans: `String.contains(_: String)` is Foundation's `range(of:)`, slow on every scope name.
        if hasStar {
            let isWildcard = name == "*" || (name.hasSuffix(":*") && !name.utf8.dropLast().contains(UInt8(ascii: "*")))
            if !isWildcard { return "`*` may appear only as a whole last segment, as in `mcp:tools:*`" }
            if !allowWildcard { return "a wildcard is not allowed here" }
        }
        return nil
    }

    static func checkScopeNames(_ state: inout CompilerState) {
        for scope in state.model.scopes {
            if let problem = problem(inScopeName: scope.name, allowWildcard: true) {
                state.report(
                    .invalidScopeName, "invalid scope name: \(problem)", at: scope.location,
                    help: "rename the scope using `:`-separated segments of letters, digits and `-_.`")
            }
            if scope.isWildcard, scope.deprecatedUse != nil {
                state.report(
                    .conflictingSettings, "wildcard `\(scope.name)` cannot be deprecated", at: scope.location,
                    help: "deprecate the concrete scopes instead")
            }
        }
    }

    static func coverWildcards(_ state: inout CompilerState) {
        let concrete = state.model.scopes.filter { !$0.isWildcard }.map(\.name).sorted()
        // Valid names are printable ASCII, where `String` order is byte order and `hasPrefix` is a byte prefix:
        // the names under a prefix are then one run of the sorted list, found by binary search instead of testing
        // every name against every wildcard (126 × 5,000 `hasPrefix` calls at 10,000 tools).
        let ascii = concrete.allSatisfy { $0.utf8.allSatisfy(isScopeChar) }
        for index in state.model.scopes.indices where state.model.scopes[index].isWildcard {
            let prefix = state.model.scopes[index].wildcardPrefix
            if ascii, prefix.utf8.allSatisfy(isScopeChar) {
                var low = 0
                var high = concrete.count
                while low < high {
                    let mid = (low + high) / 2
                    if concrete[mid].utf8.lexicographicallyPrecedes(prefix.utf8) { low = mid + 1 } else { high = mid }
                }
                var end = low
                while end < concrete.count, concrete[end].utf8.starts(with: prefix.utf8) { end += 1 }
                state.model.scopes[index].covers = Array(concrete[low..<end])
            } else {
                state.model.scopes[index].covers = concrete.filter { $0.hasPrefix(prefix) }
            }
        }
    }

    static func undefined(_ name: String, _ loc: SourceLocation, context: String, _ state: inout CompilerState) {
        let names = state.model.scopes.map(\.name)
        let suggestion = Suggest.closest(to: name, in: names)
        state.report(
            .undefinedScope, "unknown scope `\(name)`" + (suggestion.map { "; did you mean `\($0)`?" } ?? ""),
            at: loc,
            help: suggestion.map { "rename it to `\($0)`" }
                ?? "define `\(name)` under `scopes:` or fix the name (\(context))")
    }

    static func checkImplies(_ state: inout CompilerState) {
        for scope in state.model.scopes {
            for (target, loc) in zip(scope.implies, scope.impliesLocations) where state.model.scopeIndex[target] == nil
            {
                if let problem = problem(inScopeName: target, allowWildcard: true) {
                    state.report(
                        .invalidScopeName, "invalid scope name: \(problem)", at: loc, help: "fix the scope name")
                } else {
                    undefined(target, loc, context: "implied by `\(scope.name)`", &state)
                }
            }
        }
    }

    static func checkReferences(_ expression: RequirementExpression, _ state: inout CompilerState) {
        switch expression {
        case .scope(let name, let loc): checkReference(name, loc, &state)
        case .all(let items, _), .any(let items, _): for item in items { checkReferences(item, &state) }
        }
    }

    static func checkReference(_ name: String, _ loc: SourceLocation, _ state: inout CompilerState) {
        if let problem = problem(inScopeName: name, allowWildcard: true) {
            state.report(.invalidScopeName, "invalid scope name: \(problem)", at: loc, help: "fix the scope name")
            return
        }
        // The name is printable ASCII here, so a byte test is `hasSuffix(":*")`.
        let bytes = name.utf8
        if name == "*"
            || (bytes.count >= 2 && bytes.last == UInt8(ascii: "*")
                && bytes[bytes.index(bytes.endIndex, offsetBy: -2)] == UInt8(ascii: ":"))
        {
            state.report(
                .wildcardInRequirement, "requirement names wildcard `\(name)`", at: loc,
                help: "requirements name concrete scopes; a token holding `\(name)` satisfies them through coverage")
            return
        }
        guard let index = state.model.scopeIndex[name] else {
            undefined(name, loc, context: "requirements name defined scopes", &state)
            return
        }
        if let use = state.model.scopes[index].deprecatedUse {
            state.report(
                .deprecatedScopeRequired, "requirement names deprecated scope `\(name)`", at: loc,
                help: "require `\(use)` instead; tokens holding `\(name)` still satisfy it")
        }
    }

    /// Calls `body` for every requirement in the model, with a short label of where it is (built only when asked
    /// for: this runs over every requirement of every compile).
    static func forEachRequirement(in model: PolicyModel, _ body: (Requirement, () -> String) -> Void) {
        // By index, reading fields: a loop over the rules would copy (retain and release) each whole rule.
        let tools = model.tools
        for t in tools.indices {
            if let r = tools[t].requirement { body(r, { "tool `\(tools[t].pattern)`" }) }
            for w in tools[t].when { body(w.requirement, { "tool `\(tools[t].pattern)`" }) }
            guard let actions = tools[t].actions else { continue }
            for action in actions {
                if let r = action.requirement { body(r, { "action `\(action.name)` of `\(tools[t].pattern)`" }) }
                for w in action.when { body(w.requirement, { "action `\(action.name)` of `\(tools[t].pattern)`" }) }
            }
        }
        for rules in [model.methods, model.resources, model.prompts] {
            for rule in rules { if let r = rule.requirement { body(r, { "`\(rule.pattern)`" }) } }
        }
    }

    static func checkClients(_ state: inout CompilerState) {
        let model = state.model
        let toolNames = model.tools.map(\.pattern)
        for client in model.clients {
            for (name, loc) in zip(client.scopes ?? [], client.scopeLocations) {
                if let problem = problem(inScopeName: name, allowWildcard: true) {
                    state.report(
                        .invalidScopeName, "invalid scope name: \(problem)", at: loc, help: "fix the scope name")
                } else if model.scopeIndex[name] == nil {
                    undefined(name, loc, context: "client `\(client.name)`", &state)
                }
            }
            for grant in client.tools {
                let rule: ToolRule? =
                    model.toolIndex[grant.tool].map { model.tools[$0] }
                    ?? model.tools.first { $0.pattern == grant.tool }
                    ?? ToolResolution.bestGlob(for: grant.tool, in: model.tools)
                guard let rule else {
                    let suggestion = Suggest.closest(to: grant.tool, in: toolNames)
                    state.report(
                        .unknownTool,
                        "client `\(client.name)` names unknown tool `\(grant.tool)`"
                            + (suggestion.map { "; did you mean `\($0)`?" } ?? ""), at: grant.location,
                        help: "list tools defined under `tools:` (exact names or their globs)")
                    continue
                }
                for action in grant.actions ?? [] where !(rule.actions ?? []).contains(where: { $0.name == action }) {
                    let names = (rule.actions ?? []).map(\.name)
                    state.report(
                        .unknownAction,
                        "tool `\(rule.pattern)` has no action `\(action)`" + Suggest.clause(action, names),
                        at: grant.location,
                        help: names.isEmpty
                            ? "this tool has no `actions:`; remove `actions`"
                            : "its actions are \(names.map { "`\($0)`" }.joined(separator: ", "))")
                }
            }
        }
    }

    static func checkDownstream(_ state: inout CompilerState) {
        let issuers = (state.model.tokens?.issuers ?? []).map(\.issuer)
        let tools = state.model.tools
        for t in tools.indices {
            guard let downstream = tools[t].downstream, let issuer = downstream.issuer else { continue }
            if !issuers.contains(issuer) {
                state.report(
                    .unknownIssuer,
                    "downstream of `\(tools[t].pattern)` names unknown issuer `\(issuer)`"
                        + Suggest.clause(issuer, issuers), at: downstream.location,
                    help: "declare the issuer under `tokens.issuers`, or omit `issuer` to use the token's own")
            }
        }
    }
}

/// Tool-name resolution over the model (used by the resolver, the reference evaluator and analyses).
enum ToolResolution {
    /// The most specific glob matching `name` (ties broken by declaration order; ambiguity is a compile error).
    static func bestGlob(for name: String, in tools: [ToolRule]) -> ToolRule? {
        var best: (ToolRule, Glob.Specificity)?
        for tool in tools where tool.isGlob {
            let glob = Glob(tool.pattern)
            guard glob.matches(name) else { continue }
            let s = glob.specificity
            if best.map({ $0.1 < s }) ?? true { best = (tool, s) }
        }
        return best?.0
    }
}
