import Foundation

/// Reads policy test files: a YAML list of cases, or a mapping with a `cases:` list.
///
/// ```swift
/// let file = try PolicyTestParser.load(path: "policies/tests/climate.tests.yaml")
/// ```
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
