import Foundation

/// The outcome of one test case.
///
/// ```swift
/// for result in runner.run(file) where !result.passed { print(result.testCase.name, result.failures) }
/// ```
public struct PolicyTestResult: Sendable, Hashable {
    public var testCase: PolicyTestCase
    /// Empty when the case passed; otherwise one line per mismatch, `field: expected X, got Y`.
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }
    /// The actual decision.
    public var allowed: Bool
    public var reason: String
    public var missing: [String]
    /// The actual least-privilege set (only computed when the case expects `minimal`).
    public var minimal: [String]?
}

/// What the test cases exercised, per tool: tools, actions, `when` conditions, and requirement clauses.
///
/// ```swift
/// let coverage = runner.coverage
/// print("\(coverage.percent)% covered; tools \(coverage.count("tool"))")
/// ```
public struct PolicyCoverage: Sendable, Hashable {
    public struct Item: Sendable, Hashable {
        /// `tool`, `action`, `when` or `clause`.
        public var kind: String
        /// e.g. `file_manager`, `file_manager.read`, `file_manager when path prefix`, `file_manager: read:files`.
        public var label: String
        public var location: SourceLocation
        public var covered: Bool
    }
    public var items: [Item]
    /// Covered items over all items, in percent (100 when there are none).
    public var percent: Double {
        items.isEmpty ? 100 : Double(items.filter(\.covered).count) * 100 / Double(items.count)
    }
    /// (covered, total) for one kind.
    public func count(_ kind: String) -> (Int, Int) {
        let of = items.filter { $0.kind == kind }
        return (of.filter(\.covered).count, of.count)
    }
}

/// Runs policy test cases against a compiled policy and tracks coverage.
///
/// ```swift
/// var runner = PolicyTestRunner(policy: policy)
/// let results = runner.run(try PolicyTestParser.load(path: "policies/tests/climate.tests.yaml"))
/// let coverage = runner.coverage
/// ```
public struct PolicyTestRunner: Sendable {
    public let policy: CompiledPolicy
    /// Coverage marks by item key.
    var covered = Set<String>()

    public init(policy: CompiledPolicy) { self.policy = policy }

    /// Runs one case (recording what it exercised for ``coverage``).
    public mutating func run(_ c: PolicyTestCase) -> PolicyTestResult {
        var arguments = c.arguments
        var actionProblem: String?
        let ruleIndex = c.method == "tools/call" ? policy.toolRuleIndex(for: c.tool) : nil
        if let action = c.action {
            if let ruleIndex,
                let argument = policy.model.tools[ruleIndex].actionArgument
                    ?? (policy.model.tools[ruleIndex].actions != nil ? "action" : nil)
            {
                arguments[argument] = .string(action)
            } else if ruleIndex != nil {
                actionProblem = "tool `\(c.tool)` has no actions; `action: \(action)` cannot apply"
            } else {
                arguments["action"] = .string(action)
            }
        }
        let prefixes = (policy.model.tokens?.issuers ?? []).flatMap(\.stripPrefixes)
        let grant = policy.grant(c.scopes, stripPrefixes: prefixes)
        let call = Call(method: c.method, name: c.tool, arguments: arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant)
        if let ruleIndex { mark(ruleIndex, arguments: arguments, closure: grant.closure) }
        var failures: [String] = []
        if let actionProblem { failures.append(actionProblem) }
        let e = c.expect
        if let allowed = e.allowed, allowed != decision.allowed {
            failures.append(
                "allowed: expected \(allowed), got \(decision.allowed) (\(decision.reason)"
                    + (record.missing.isEmpty ? "" : "; missing: \(record.missing.joined(separator: " "))") + ")")
        }
        if let reason = e.reason, reason != decision.reason.rawValue {
            failures.append("reason: expected \(reason), got \(decision.reason)")
        }
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        if let missing = e.missing, Set(missing) != Set(record.missing) {
            failures.append(
                "missing: expected [\(missing.sorted(by: byName).joined(separator: " "))], got [\(record.missing.joined(separator: " "))]"
            )
        }
        var minimal: [String]?
        if let expected = e.minimal {
            if c.method != "tools/call" {
                failures.append("minimal: only tools have a least-privilege set (method is `\(c.method)`)")
            } else {
                do {
                    let r = try LeastPrivilegeSolver(policy: policy).minimal(for: [
                        ToolSelection(tool: c.tool, actions: c.action.map { [$0] })
                    ])
                    minimal = r.scopes
                    if Set(expected) != Set(r.scopes) {
                        failures.append(
                            "minimal: expected [\(expected.sorted(by: byName).joined(separator: " "))], got [\(r.scopes.joined(separator: " "))]"
                        )
                    }
                } catch {
                    failures.append("minimal: \(error.message)")
                }
            }
        }
        return PolicyTestResult(
            testCase: c, failures: failures, allowed: decision.allowed, reason: decision.reason.rawValue,
            missing: record.missing, minimal: minimal)
    }

    /// Runs every case of a file, in order.
    public mutating func run(_ file: PolicyTestFile) -> [PolicyTestResult] { file.cases.map { run($0) } }

    static func clauseKey(_ owner: String, _ clause: [String]) -> String {
        "clause \(owner) " + clause.joined(separator: " + ")
    }

    mutating func mark(_ index: Int, arguments: [String: JSONValue], closure: ScopeSet) {
        let rule = policy.model.tools[index]
        let owner = "#\(index)"
        covered.insert("tool \(owner)")
        func markClauses(_ r: Requirement?, _ key: String) {
            for clause in r?.clauses ?? []
            where clause.allSatisfy({ policy.scopes.id($0).map(closure.contains) ?? false }) {
                covered.insert(Self.clauseKey(key, clause))
            }
        }
        func markWhen(_ whens: [ConditionalRequirement], _ key: String) {
            var notes: [String] = []
            for (i, w) in whens.enumerated() where w.matches(arguments, notes: &notes) {
                covered.insert("when \(key) \(i)")
                markClauses(w.requirement, "\(key) when \(i)")
            }
        }
        markClauses(rule.requirement, owner)
        markWhen(rule.when, owner)
        if let actions = rule.actions {
            let argument = rule.actionArgument ?? "action"
            if case .string(let name)? = arguments[argument], let a = actions.first(where: { $0.name == name }) {
                covered.insert("action \(owner) \(a.name)")
                markClauses(a.requirement, "\(owner).\(a.name)")
                markWhen(a.when, "\(owner).\(a.name)")
            }
        }
    }

    /// Coverage of every tool rule by the cases run so far.
    public var coverage: PolicyCoverage {
        var items: [PolicyCoverage.Item] = []
        func describe(_ w: ConditionalRequirement) -> String {
            w.conditions.map { c in "\(c.argument) " + c.matchers.map(\.name).joined(separator: "+") }.joined(
                separator: ", ")
        }
        for (index, rule) in policy.model.tools.enumerated() {
            let owner = "#\(index)"
            items.append(
                .init(
                    kind: "tool", label: rule.pattern, location: rule.location,
                    covered: covered.contains("tool \(owner)")))
            func clauses(_ r: Requirement?, _ key: String, _ label: String) {
                for clause in r?.clauses ?? [] {
                    items.append(
                        .init(
                            kind: "clause", label: "\(label): " + clause.joined(separator: " + "),
                            location: r?.location ?? rule.location,
                            covered: covered.contains(Self.clauseKey(key, clause))))
                }
            }
            func whens(_ ws: [ConditionalRequirement], _ key: String, _ label: String) {
                for (i, w) in ws.enumerated() {
                    items.append(
                        .init(
                            kind: "when", label: "\(label) when \(describe(w))", location: w.location,
                            covered: covered.contains("when \(key) \(i)")))
                    clauses(w.requirement, "\(key) when \(i)", "\(label) when \(describe(w))")
                }
            }
            clauses(rule.requirement, owner, rule.pattern)
            whens(rule.when, owner, rule.pattern)
            for a in rule.actions ?? [] {
                let label = "\(rule.pattern).\(a.name)"
                items.append(
                    .init(
                        kind: "action", label: label, location: a.location,
                        covered: covered.contains("action \(owner) \(a.name)")))
                clauses(a.requirement, "\(owner).\(a.name)", label)
                whens(a.when, "\(owner).\(a.name)", label)
            }
        }
        return PolicyCoverage(items: items)
    }
}
