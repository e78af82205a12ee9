import Foundation

/// One policy unit test (`docs/policy-tests.md`): a call made with some scopes, and what the decision must be.
///
/// ```swift
/// let file = try PolicyTestParser.load(path: "policies/tests/climate.tests.yaml")
/// var runner = PolicyTestRunner(policy: policy)
/// let failed = runner.run(file).filter { !$0.passed }
/// ```
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

/// A parsed test file: its cases in order (``PolicyTestParser/load(path:)`` reads one).
///
/// ```swift
/// let file = try PolicyTestParser.parse(source: "- {tool: t, scopes: a, expect: {allowed: true}}", path: "t.yaml")
/// ```
public struct PolicyTestFile: Sendable, Hashable {
    public var path: String
    public var cases: [PolicyTestCase]
}

/// Problems in a test file (bad YAML, unknown keys, wrong types), each with `file:line:column`.
///
/// ```swift
/// do { _ = try PolicyTestParser.load(path: path) } catch { print(error) }   // "t.yaml:3:5: error: …"
/// ```
public struct PolicyTestFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public var location: SourceLocation
        public var message: String
        public var description: String { "\(location): error: \(message)" }
    }
    public var problems: [Problem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
