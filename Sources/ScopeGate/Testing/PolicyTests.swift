import Foundation

/// One policy unit test (`docs/policy-tests.md`): a call made with some scopes, and what the decision must be.
public struct PolicyTestCase: Sendable, Hashable {
    /// What the decision (and optionally the least-privilege set) must be. Unset fields are not checked.
    public struct Expectation: Sendable, Hashable {
        public var allowed: Bool?
        /// A decision reason code (`allowed`, `missing_scope`, `unknown_tool`, …).
        public var reason: String?
        /// The cheapest completion, compared as a set.
        public var missing: [String]?
        /// The least-privilege set for the case's tool (and action), compared as a set.
        public var minimal: [String]?
        public init(allowed: Bool? = nil, reason: String? = nil, missing: [String]? = nil, minimal: [String]? = nil) {
            self.allowed = allowed
            self.reason = reason
            self.missing = missing
            self.minimal = minimal
        }
    }

    public var name: String
    public var location: SourceLocation
    /// Granted scope strings.
    public var scopes: [String]
    /// Tool name (`tools/call`), resource URI (`resources/read`) or prompt name (`prompts/get`); empty otherwise.
    public var tool: String
    /// JSON-RPC method (default `tools/call`).
    public var method: String
    /// Value given to the tool's action argument, if any.
    public var action: String?
    public var arguments: [String: JSONValue]
    public var expect: Expectation

    public init(
        name: String, location: SourceLocation, scopes: [String], tool: String, method: String = "tools/call",
        action: String? = nil, arguments: [String: JSONValue] = [:], expect: Expectation
    ) {
        self.name = name
        self.location = location
        self.scopes = scopes
        self.tool = tool
        self.method = method
        self.action = action
        self.arguments = arguments
        self.expect = expect
    }
}

/// A parsed test file.
public struct PolicyTestFile: Sendable, Hashable {
    public var path: String
    public var cases: [PolicyTestCase]
}

/// Problems in a test file (bad YAML, unknown keys, wrong types), each with `file:line:column`.
public struct PolicyTestFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var location: SourceLocation
        public var message: String
        public var description: String { "\(location): error: \(message)" }
    }
    public var problems: [Problem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads policy test files: a YAML list of cases, or a mapping with a `cases:` list.
public enum PolicyTestParser {
    static let caseKeys = ["name", "scopes", "tool", "method", "action", "arguments", "expect"]
    static let expectKeys = ["allowed", "reason", "missing", "minimal"]
    /// Reason codes a test may expect.
    public static let reasons = [
        "allowed", "missing_scope", "unknown_tool", "unknown_action", "unknown_method",
        "unknown_resource", "unknown_prompt",
    ]

    /// Reads and parses a test file from disk.
    public static func load(path: String) throws(PolicyTestFileError) -> PolicyTestFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyTestFileError(problems: [
                .init(
                    location: SourceLocation(file: path, line: 1, column: 1),
                    message: "cannot read `\(path)`")
            ])
        }
        return try parse(data: data, path: path)
    }

    /// Parses test-file text; `path` is used in locations.
    public static func parse(source: String, path: String) throws(PolicyTestFileError) -> PolicyTestFile {
        try parse(data: Data(source.utf8), path: path)
    }

    static func parse(data: Data, path: String) throws(PolicyTestFileError) -> PolicyTestFile {
        var diagnostics = Diagnostics()
        var options = LoadOptions(environment: [:])
        options.maxFileBytes = 16 << 20
        let file = PolicyLoader(options: options).parse(data: data, path: path, diagnostics: &diagnostics)
        var problems = diagnostics.filter { $0.severity == .error }.map {
            PolicyTestFileError.Problem(
                location: $0.location ?? SourceLocation(file: path, line: 1, column: 1), message: $0.message)
        }
        guard problems.isEmpty, let root = file?.root else {
            if problems.isEmpty {
                problems.append(
                    .init(location: SourceLocation(file: path, line: 1, column: 1), message: "the test file is empty"))
            }
            throw PolicyTestFileError(problems: problems)
        }
        var decoder = Decoder(path: path)
        let cases = decoder.file(root)
        if !decoder.problems.isEmpty {
            throw PolicyTestFileError(problems: decoder.problems.sorted { $0.location < $1.location })
        }
        return PolicyTestFile(path: path, cases: cases)
    }

    struct Decoder {
        let path: String
        var problems: [PolicyTestFileError.Problem] = []

        mutating func problem(_ node: YAMLNode, _ message: String) {
            problems.append(.init(location: node.location, message: message))
        }

        mutating func file(_ root: YAMLNode) -> [PolicyTestCase] {
            var list: YAMLNode.Items?
            if let items = root.sequence {
                list = items
            } else if let pairs = root.mapping {
                for (k, v) in pairs {
                    if k.scalarText == "cases" {
                        list = v.sequence
                        if list == nil { problem(v, "`cases` must be a list of test cases") }
                    } else {
                        problem(
                            k,
                            "unknown key `\(k.scalarText ?? "")` at the top level"
                                + Suggest.clause(k.scalarText ?? "", ["cases"]))
                    }
                }
                if list == nil && problems.isEmpty { problem(root, "missing `cases:` (a list of test cases)") }
            } else {
                problem(root, "a test file is a list of cases (or a mapping with `cases:`)")
            }
            var cases: [PolicyTestCase] = []
            var names: [String: SourceLocation] = [:]
            for item in list.map(Array.init) ?? [] {
                guard let c = testCase(item) else { continue }
                if let first = names[c.name] {
                    problem(item, "duplicate test name `\(c.name)` (first at \(first))")
                } else {
                    names[c.name] = c.location
                }
                cases.append(c)
            }
            return cases
        }

        mutating func strings(_ node: YAMLNode, _ key: String) -> [String]? {
            if let items = node.sequence {
                var out: [String] = []
                for item in items {
                    guard let s = item.string, item.sequence == nil, item.mapping == nil else {
                        problem(item, "`\(key)` entries must be strings")
                        return nil
                    }
                    out.append(s)
                }
                return out
            }
            if node.isNull { return [] }
            if let s = node.string { return s.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) }
            problem(node, "`\(key)` must be a list of scopes or a space-separated string")
            return nil
        }

        mutating func testCase(_ node: YAMLNode) -> PolicyTestCase? {
            guard let pairs = node.mapping else {
                problem(node, "a test case is a mapping with `name`, `scopes`, `tool` and `expect`")
                return nil
            }
            var name: String?
            var scopes: [String]?
            var tool: String?
            var method = "tools/call"
            var action: String?
            var arguments: [String: JSONValue] = [:]
            var expect: PolicyTestCase.Expectation?
            let before = problems.count
            let present = Set(pairs.compactMap { $0.key.scalarText })
            for (k, v) in pairs {
                let key = k.scalarText ?? ""
                switch key {
                case "name":
                    if let s = v.string, v.sequence == nil, v.mapping == nil {
                        name = s
                    } else {
                        problem(v, "`name` must be a string")
                    }
                case "scopes": scopes = strings(v, "scopes")
                case "tool":
                    if let s = v.string { tool = s } else { problem(v, "`tool` must be a string") }
                case "method":
                    if let s = v.string { method = s } else { problem(v, "`method` must be a string") }
                case "action":
                    if let s = v.string { action = s } else { problem(v, "`action` must be a string") }
                case "arguments":
                    if v.isNull { break }
                    guard v.mapping != nil, case .object(let o) = v.jsonValue else {
                        problem(v, "`arguments` must be a mapping of argument names to values")
                        break
                    }
                    arguments = o
                case "expect":
                    expect = expectation(v)
                default:
                    problem(
                        k,
                        "unknown key `\(key)` in a test case" + Suggest.clause(key, PolicyTestParser.caseKeys)
                            + "; keys are " + PolicyTestParser.caseKeys.joined(separator: ", "))
                }
            }
            if !present.contains("name") { problem(node, "test case without `name`") }
            if !present.contains("scopes") { problem(node, "test case without `scopes` (write `scopes: []` for none)") }
            let needsName = ["tools/call", "resources/read", "prompts/get"].contains(method)
            if !present.contains("tool") && needsName { problem(node, "test case without `tool`") }
            if !present.contains("expect") { problem(node, "test case without `expect`") }
            guard problems.count == before, let name, let scopes, let expect else { return nil }
            return PolicyTestCase(
                name: name, location: node.location, scopes: scopes, tool: tool ?? "", method: method,
                action: action, arguments: arguments, expect: expect)
        }

        mutating func expectation(_ node: YAMLNode) -> PolicyTestCase.Expectation? {
            guard let pairs = node.mapping else {
                problem(
                    node,
                    "`expect` must be a mapping with any of " + PolicyTestParser.expectKeys.joined(separator: ", "))
                return nil
            }
            var e = PolicyTestCase.Expectation()
            for (k, v) in pairs {
                let key = k.scalarText ?? ""
                switch key {
                case "allowed":
                    if let b = v.boolValue { e.allowed = b } else { problem(v, "`allowed` must be true or false") }
                case "reason":
                    if let s = v.string, PolicyTestParser.reasons.contains(s) {
                        e.reason = s
                    } else {
                        problem(
                            v,
                            "unknown reason `\(v.string ?? v.typeName)`"
                                + Suggest.clause(v.string ?? "", PolicyTestParser.reasons)
                                + "; reasons are " + PolicyTestParser.reasons.joined(separator: ", "))
                    }
                case "missing": e.missing = strings(v, "missing")
                case "minimal": e.minimal = strings(v, "minimal")
                default:
                    problem(
                        k,
                        "unknown key `\(key)` in `expect`" + Suggest.clause(key, PolicyTestParser.expectKeys)
                            + "; keys are " + PolicyTestParser.expectKeys.joined(separator: ", "))
                }
            }
            if pairs.isEmpty {
                problem(
                    node,
                    "`expect` is empty; give at least one of " + PolicyTestParser.expectKeys.joined(separator: ", "))
            }
            return e
        }
    }
}

/// The outcome of one test case.
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
