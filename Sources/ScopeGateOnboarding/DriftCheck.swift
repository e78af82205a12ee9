import ScopeGate
import ScopeGateMCPClient

/// Compares a policy with the tools a server lists now, and (with a snapshot) with the tools it listed before.
///
/// ```swift
/// let result = PolicyCompiler().compile(path: "policies/git.yaml")
/// let findings = DriftCheck.check(policy: try result.compiled(), tools: tools, snapshot: previous)
/// print(DiagnosticRenderer(sources: result.sources).human(findings))
/// ```
///
/// Findings are ``Diagnostic`` values with their own codes (`SGD…`), so every lint renderer (human, JSON, SARIF,
/// GitHub annotations) shows them.
public enum DriftCheck {
    /// A server tool that no exact tool rule names.
    public static let unnamedTool = Diagnostic.Code("SGD01", "unnamed-tool", .warning)
    /// A server tool caught only by a catch-all glob or a `public` glob: it is callable without review.
    public static let silentlyCaught = Diagnostic.Code("SGD02", "caught-by-broad-glob", .error)
    /// A tool the policy names that the server no longer lists.
    public static let missingTool = Diagnostic.Code("SGD03", "tool-gone", .warning)
    /// Since the snapshot, a tool's annotations raise its risk (read-only → write → destructive).
    public static let riskRaised = Diagnostic.Code("SGD04", "risk-raised", .error)
    /// Since the snapshot, the input schema of an argument a `when:` or `actions:` relies on changed.
    public static let schemaChanged = Diagnostic.Code("SGD05", "relied-argument-changed", .error)

    /// Every drift code.
    public static let codes = [unnamedTool, silentlyCaught, missingTool, riskRaised, schemaChanged]

    /// All findings, sorted: first what the server has that the policy does not name, then what it lost, then
    /// what changed since `snapshot` (when given).
    public static func check(policy: CompiledPolicy, tools: [MCPTool], snapshot: [MCPTool]?) -> Diagnostics {
        let model = policy.model
        var findings = Diagnostics()
        let current = Dictionary(tools.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in current.keys.sorted() where model.toolIndex[name] == nil {
            findings.append(unnamed(name, policy: policy))
        }
        for rule in model.tools where !rule.isGlob && current[rule.pattern] == nil {
            findings.append(
                Diagnostic(
                    missingTool, "the policy names `\(rule.pattern)` but the server no longer lists it",
                    at: rule.location, help: "remove the rule (and client grants of it), or check the server version"))
        }
        guard let snapshot else { return findings }
        let before = Dictionary(snapshot.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for name in current.keys.sorted() {
            guard let now = current[name], let then = before[name] else { continue }
            let (old, new) = (ToolAccess(then), ToolAccess(now))
            let rule = policy.toolRuleIndex(for: name).map { model.tools[$0] }
            if new > old {
                findings.append(
                    Diagnostic(
                        riskRaised,
                        "`\(name)` was \(describe(then)) in the snapshot and is now \(describe(now))",
                        at: rule?.location,
                        help: "check the tool's new behaviour and require a scope of matching risk; then "
                            + "`--update-snapshot`"))
            }
            guard let rule else { continue }
            for argument in reliedArguments(rule) {
                let (was, isNow) = (property(argument, in: then.inputSchema), property(argument, in: now.inputSchema))
                guard was != isNow else { continue }
                findings.append(
                    Diagnostic(
                        schemaChanged,
                        "the input schema of `\(name)` changed argument `\(argument)`, which the policy relies on: "
                            + "\(was?.jsonText ?? "absent") → \(isNow?.jsonText ?? "absent")",
                        at: rule.location,
                        help: "check the rule's `when:`/`actions:` still match the calls the server accepts; then "
                            + "`--update-snapshot`"))
            }
        }
        return findings
    }

    private static func unnamed(_ name: String, policy: CompiledPolicy) -> Diagnostic {
        guard let index = policy.toolRuleIndex(for: name) else {
            return Diagnostic(
                unnamedTool,
                "the server lists `\(name)`, which the policy does not name: calls are denied `unknown_tool`",
                at: nil, help: "add a rule for `\(name)` (`scopegate init` drafts one)")
        }
        let rule = policy.model.tools[index]
        let catchAll = rule.pattern.allSatisfy { $0 == "*" }
        if catchAll || rule.isPublic {
            let what = rule.isPublic ? "the public glob" : "the catch-all glob"
            return Diagnostic(
                silentlyCaught,
                "the server lists `\(name)`, which the policy does not name: \(what) `\(rule.pattern)` lets it be "
                    + "called without review", at: rule.location,
                help: "name `\(name)` with the scope it needs; keep catch-alls and public globs out of policies")
        }
        return Diagnostic(
            unnamedTool,
            "the server lists `\(name)`, which the policy does not name: the glob `\(rule.pattern)` catches it",
            at: rule.location, help: "check the glob's requirement fits `\(name)`, or name it")
    }

    /// The argument names a rule's decisions depend on: the action argument and every `when:` condition's.
    static func reliedArguments(_ rule: ToolRule) -> [String] {
        var names: [String] = []
        if rule.actions != nil { names.append(rule.actionArgument ?? "action") }
        var conditions = rule.when
        for action in rule.actions ?? [] { conditions += action.when }
        for condition in conditions {
            for c in condition.conditions where !names.contains(c.argument) { names.append(c.argument) }
        }
        return names
    }

    /// An argument's schema, with whether it is required, as one comparable value.
    static func property(_ name: String, in schema: JSONValue) -> JSONValue? {
        guard case .object(let object) = schema, case .object(let properties)? = object["properties"],
            let property = properties[name]
        else { return nil }
        var required = false
        if case .array(let list)? = object["required"] { required = list.contains(.string(name)) }
        return .object(["schema": property, "required": .bool(required)])
    }

    static func describe(_ tool: MCPTool) -> String {
        switch ToolAccess(tool) {
        case .read: "read-only"
        case .write: "non-destructive"
        case .admin: tool.annotations == nil ? "unannotated (destructive by default)" : "destructive"
        }
    }
}
