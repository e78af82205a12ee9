import Foundation

/// The Decision record of design.md, rendered (`"v": 1`). One line of `check --batch` output.
public struct DecisionRecord: Sendable, Hashable {
    public var line: Int?
    /// The request id, as JSON text (string or number), if given.
    public var id: String?
    public var allowed: Bool
    public var reason: String
    public var rule: String?
    /// The satisfied clause (allow) or the clause the completion targets (deny), as names.
    public var clause: [String]
    public var missing: [String]
    public var challenge: String?
    public var ignored: [Grant.Ignored]
    public var notes: [String]
    public var policyVersion: String?

    /// The record as one compact JSON line (no trailing newline).
    public var json: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the record as one compact JSON line (no trailing newline) to a byte buffer: ``json``'s bytes,
    /// without building a `String` (`check --batch` renders straight into its output buffer).
    public func write(to out: inout [UInt8]) {
        func raw(_ s: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
        }
        func strings(_ items: [String]) {
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONText.writeString(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        raw("{\"v\":1")
        if let line {
            raw(",\"line\":")
            JSONText.writeInteger(line, to: &out)
        }
        if let id {
            raw(",\"id\":")
            out.append(contentsOf: id.utf8)
        }
        raw(",\"allowed\":")
        if allowed { raw("true") } else { raw("false") }
        raw(",\"reason\":")
        JSONText.writeString(reason, to: &out)
        raw(",\"rule\":")
        if let rule { JSONText.writeString(rule, to: &out) } else { raw("null") }
        raw(",\"clause\":")
        strings(clause)
        raw(",\"missing\":")
        strings(missing)
        raw(",\"challenge\":")
        if let challenge { JSONText.writeString(challenge, to: &out) } else { raw("null") }
        raw(",\"ignored\":[")
        for (i, entry) in ignored.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            raw("{\"scope\":")
            JSONText.writeString(entry.scope, to: &out)
            raw(",\"why\":")
            JSONText.writeString(entry.why, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if !notes.isEmpty {
            raw(",\"notes\":")
            strings(notes)
        }
        if let policyVersion {
            raw(",\"policy_version\":")
            JSONText.writeString(policyVersion, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// A step-by-step account of a decision, for `check --explain` and logs.
public struct Explanation: Sendable, Hashable {
    public struct Part: Sendable, Hashable {
        /// `requires`, `action <name>`, `when <conditions>`.
        public var source: String
        public var clauses: [[String]]
        /// Index of the satisfied clause, if any.
        public var satisfied: Int?
    }
    public var rule: String?
    public var parts: [Part]
    public var ignored: [Grant.Ignored]
    public var notes: [String]
    public var lines: [String]
}

extension CompiledPolicy {
    /// Names of scope ids.
    public func names(_ ids: [ScopeID]) -> [String] { ids.map { scopes.name(of: $0) } }

    /// The URL of this resource's Protected Resource Metadata (RFC 9728 path form), if `resource.id` is set.
    public var resourceMetadataURL: String? { metadataURL }

    /// Computes the metadata URL once, at lowering (see ``CompiledPolicy/metadataURL``).
    static func metadataURL(for model: PolicyModel) -> String? {
        guard let id = model.resource?.id, let url = URL(string: id), let scheme = url.scheme, let host = url.host
        else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        return "\(scheme)://\(host)\(port)/.well-known/oauth-protected-resource\(path)"
    }

    /// The `WWW-Authenticate` value of a 403 for a `missing_scope` decision (nil for other outcomes).
    public func challenge(for decision: Decision, grant: Grant, style: ChallengeScope = .grantedPlusMissing) -> String?
    {
        guard decision.reason == .missingScope else { return nil }
        var scopeList: [String] = []
        if style == .grantedPlusMissing {
            for s in grant.recognized where !scopeList.contains(s) { scopeList.append(s) }
        }
        for s in names(decision.missing) where !scopeList.contains(s) { scopeList.append(s) }
        var value = "Bearer error=\"insufficient_scope\", scope=\"\(scopeList.joined(separator: " "))\""
        if let metadata = resourceMetadataURL { value += ", resource_metadata=\"\(metadata)\"" }
        value += ", error_description=\"additional scope required\""
        return value
    }

    /// The `WWW-Authenticate` value of a 401 (no token, or a token that failed verification): `scope` is
    /// `scopes_supported` plus, when the call is known, the least-privilege set of its tool; `error` and
    /// `error_description` are added for a presented but invalid token (`error="invalid_token"`).
    public func unauthorizedChallenge(for call: Call? = nil, error: String? = nil, description: String? = nil) -> String
    {
        var scopeList = model.resource?.resolvedScopesSupported ?? []
        if let call, call.method == "tools/call", toolRuleIndex(for: call.name) != nil,
            let least = try? LeastPrivilegeSolver(policy: self).minimal(for: [ToolSelection(tool: call.name)])
        {
            for s in least.scopes where !scopeList.contains(s) { scopeList.append(s) }
        }
        var parts: [String] = []
        if let metadata = resourceMetadataURL { parts.append("resource_metadata=\"\(metadata)\"") }
        if !scopeList.isEmpty { parts.append("scope=\"\(scopeList.joined(separator: " "))\"") }
        if let error {
            parts.append("error=\"\(Self.headerSafe(error))\"")
            if let description { parts.append("error_description=\"\(Self.headerSafe(description))\"") }
        }
        return parts.isEmpty ? "Bearer" : "Bearer " + parts.joined(separator: ", ")
    }

    /// Keeps a challenge parameter value to printable ASCII without quotes or backslashes (RFC 6750 §3).
    static func headerSafe(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.prefix(200).map { u in
                    (u.value >= 0x20 && u.value < 0x7F && u != "\"" && u != "\\") ? u : "?"
                }))
    }

    /// The explanation of a decision (recomputes the details the fast path skipped).
    public func explain(_ call: Call, grant: Grant) -> Explanation {
        let grant = grant.stamp == stamp ? grant : self.grant(grant.granted)
        let decision = decide(call, grant: grant)
        var parts: [Explanation.Part] = []
        var lines: [String] = []
        let rule = decision.rule?.description
        let table: RuleTable? =
            switch call.method {
            case "tools/call": tools
            case "resources/read": resources
            case "prompts/get": prompts
            default: methods.lookup(call.method) != nil ? methods : nil
            }
        let key =
            call.method == "tools/call" || call.method == "resources/read" || call.method == "prompts/get"
            ? call.name : call.method
        if let table, let index = table.lookup(key) {
            let r = table.rules[index]
            let pattern: String
            switch call.method {
            case "tools/call": pattern = model.tools[r.modelIndex].pattern
            case "resources/read": pattern = model.resources[r.modelIndex].pattern
            case "prompts/get": pattern = model.prompts[r.modelIndex].pattern
            default: pattern = model.methods[r.modelIndex].pattern
            }
            lines.append("matched rule `\(pattern)` at \(r.location)" + (pattern.contains("*") ? " (glob)" : ""))
            if r.isPublic { lines.append("the rule is public: any valid token may call it") }
            func part(_ source: String, _ range: ClauseRange) {
                guard !range.isEmpty else { return }
                let clauses = (range.lower..<range.upper).map { clauseNames(Int($0)) }
                let sat = firstSatisfied(range, grant.closure).map { Int($0 - range.lower) }
                parts.append(.init(source: source, clauses: clauses, satisfied: sat))
                let text = clauses.map { "[" + $0.joined(separator: " ") + "]" }.joined(separator: " or ")
                lines.append(
                    "\(source): \(text) — "
                        + (sat.map { "satisfied by [\(clauses[$0].joined(separator: " "))]" } ?? "not satisfied"))
            }
            part("requires", r.requirement)
            var notes: [String] = []
            var actionIndex: Int?
            if let argument = r.actionArgument, case .string(let value)? = call.arguments[argument],
                let i = r.actions[value]
            {
                actionIndex = i
                part("action `\(value)`", r.actionList[i].requirement)
            }
            for w in r.when where matches(w, call.arguments, notes: &notes) {
                part("when (\(w.location))", w.requirement)
            }
            if let actionIndex {
                for w in r.actionList[actionIndex].when where matches(w, call.arguments, notes: &notes) {
                    part("when (\(w.location))", w.requirement)
                }
            }
        } else if decision.allowed {
            lines.append("`\(call.method)` needs only a valid token")
        } else {
            lines.append("no rule matches `\(key)`: denied (\(decision.reason))")
        }
        for i in grant.ignored {
            lines.append("ignored granted `\(i.scope)`: \(i.why.replacingOccurrences(of: "_", with: " "))")
        }
        lines += decision.notes
        if !decision.missing.isEmpty {
            lines.append("missing (cheapest completion): " + names(decision.missing).joined(separator: " "))
        }
        lines.append(decision.allowed ? "ALLOW" : "DENY \(decision.reason)")
        return Explanation(rule: rule, parts: parts, ignored: grant.ignored, notes: decision.notes, lines: lines)
    }

    /// The rule table and rule a call resolves to (nil for built-in methods and unknown names).
    func resolveRule(_ call: Call) -> CompiledRule? {
        switch call.method {
        case "tools/call": return tools.lookup(call.name).map { tools.rules[$0] }
        case "resources/read": return resources.lookup(call.name).map { resources.rules[$0] }
        case "prompts/get": return prompts.lookup(call.name).map { prompts.rules[$0] }
        default: return methods.lookup(call.method).map { methods.rules[$0] }
        }
    }

    /// The names of the first satisfied clause of every requirement part that applies to `call`.
    func satisfiedClauseNames(_ call: Call, closure: ScopeSet) -> [String] {
        guard let rule = resolveRule(call), !rule.isPublic else { return [] }
        var actionIndex: Int?
        if let argument = rule.actionArgument, case .string(let value)? = call.arguments[argument] {
            actionIndex = rule.actions[value]
        }
        var names: [String] = []
        for part in effectiveParts(rule, actionIndex: actionIndex, arguments: call.arguments) {
            if let c = firstSatisfied(part, closure), c >= 0 { names += clauseNames(Int(c)) }
        }
        return names
    }

    /// Renders a decision into the design.md Decision record.
    public func record(
        for decision: Decision, call: Call, grant: Grant, line: Int? = nil, id: String? = nil,
        style: ChallengeScope = .grantedPlusMissing, policyVersion: String? = nil
    ) -> DecisionRecord {
        let grant = grant.stamp == stamp ? grant : self.grant(grant.granted)
        var clause: [String] = []
        if decision.allowed || decision.reason == .missingScope {
            // Allow: the satisfied clause of every part. Deny: satisfied parts plus the completion.
            clause = satisfiedClauseNames(call, closure: grant.closure) + names(decision.missing)
        }
        var unique = Set<String>()
        clause = clause.filter { unique.insert($0).inserted }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return DecisionRecord(
            line: line, id: id, allowed: decision.allowed, reason: decision.reason.rawValue,
            rule: decision.rule?.description, clause: clause,
            missing: names(decision.missing), challenge: challenge(for: decision, grant: grant, style: style),
            ignored: grant.ignored, notes: decision.notes, policyVersion: policyVersion)
    }
}
