import Foundation

@testable import ScopeGate

/// One case of a corpus file (format: Tests/Corpus/README.md).
struct CorpusCase: CustomStringConvertible {
    var file: String
    var name: String
    var method: String
    var tool: String
    var arguments: [String: JSONValue]
    var scopes: [String]
    var allowed: Bool
    var reason: String
    var missing: [String]?
    var challenge: String?
    var ignored: [String]?

    var description: String { "\(file): \(name)" }
}

/// One corpus file: its policy (inline text or a file under `policies/`) and its cases.
struct CorpusFile {
    var path: String
    var policySource: String?
    var policyPath: String?
    var cases: [CorpusCase]
}

enum Corpus {
    /// `Tests/Corpus`, found from this source file's path (not from the test bundle).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Corpus")
    static let repositoryRoot = directory.deletingLastPathComponent().deletingLastPathComponent()

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    static func files() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yaml" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Parses a corpus file with the policy loader's own YAML reader (no `${VAR}` in corpus files).
    static func load(_ url: URL) throws -> CorpusFile {
        let data = try Data(contentsOf: url)
        var diagnostics = Diagnostics()
        let loader = PolicyLoader(options: LoadOptions(environment: [:]))
        let name = url.lastPathComponent
        guard let root = loader.parse(data: data, path: name, diagnostics: &diagnostics)?.root, !diagnostics.hasErrors,
            let top = root.mapping
        else {
            throw FormatError(description: "\(name): not a YAML mapping: \(diagnostics.map(\.message))")
        }
        func fail(_ message: String, _ node: YAMLNode) -> FormatError {
            FormatError(description: "\(node.location): \(message)")
        }
        func strings(_ node: YAMLNode) throws -> [String] {
            if let items = node.sequence {
                return try items.map { item in
                    guard let s = item.string, item.mapping == nil else { throw fail("expected a string", item) }
                    return s
                }
            }
            guard let s = node.string ?? (node.isNull ? "" : nil) else {
                throw fail("expected a string or a list", node)
            }
            return s.split(separator: " ").map(String.init)
        }
        var file = CorpusFile(path: name, cases: [])
        var caseNodes: [YAMLNode] = []
        for (k, v) in top {
            switch k.string {
            case "description": break
            case "policy":
                guard let s = v.string else { throw fail("`policy` must be a block scalar", v) }
                file.policySource = s
            case "policy_file":
                guard let s = v.string else { throw fail("`policy_file` must be a path", v) }
                file.policyPath = repositoryRoot.appendingPathComponent("policies").appendingPathComponent(s).path
            case "cases":
                guard let items = v.sequence else { throw fail("`cases` must be a list", v) }
                caseNodes = Array(items)
            default: throw fail("unknown key `\(k.string ?? "")`", k)
            }
        }
        guard (file.policySource == nil) != (file.policyPath == nil) else {
            throw FormatError(description: "\(name): give exactly one of `policy` and `policy_file`")
        }
        let caseKeys: Set = ["name", "tool", "method", "arguments", "scopes", "expect"]
        let expectKeys: Set = ["allowed", "reason", "missing", "challenge", "ignored"]
        for node in caseNodes {
            guard let pairs = node.mapping else { throw fail("a case must be a mapping", node) }
            var c = CorpusCase(
                file: name, name: "", method: "tools/call", tool: "", arguments: [:], scopes: [],
                allowed: false, reason: "")
            var sawExpect = false
            var sawAllowed = false
            var sawScopes = false
            for (k, v) in pairs {
                let key = k.string ?? ""
                guard caseKeys.contains(key) else { throw fail("unknown case key `\(key)`", k) }
                switch key {
                case "name": c.name = v.string ?? ""
                case "tool": c.tool = v.string ?? ""
                case "method": c.method = v.string ?? c.method
                case "arguments":
                    guard case .object(let object) = v.jsonValue else { throw fail("`arguments` must be a mapping", v) }
                    c.arguments = object
                case "scopes":
                    c.scopes = try strings(v)
                    sawScopes = true
                default:
                    sawExpect = true
                    guard let expect = v.mapping else { throw fail("`expect` must be a mapping", v) }
                    for (ek, ev) in expect {
                        let ekey = ek.string ?? ""
                        guard expectKeys.contains(ekey) else { throw fail("unknown expect key `\(ekey)`", ek) }
                        switch ekey {
                        case "allowed":
                            guard let b = ev.boolValue else { throw fail("`allowed` must be true or false", ev) }
                            c.allowed = b
                            sawAllowed = true
                        case "reason": c.reason = ev.string ?? ""
                        case "missing": c.missing = try strings(ev)
                        case "challenge": c.challenge = ev.string
                        default: c.ignored = try strings(ev)
                        }
                    }
                }
            }
            guard !c.name.isEmpty, sawExpect, sawAllowed, sawScopes, !c.reason.isEmpty else {
                throw fail("a case needs `name`, `scopes` and `expect: {allowed, reason}`", node)
            }
            file.cases.append(c)
        }
        return file
    }

    /// Compiles a corpus file's policy; throws with rendered diagnostics when it has errors.
    static func compile(_ file: CorpusFile) throws -> CompiledPolicy {
        let result =
            if let source = file.policySource {
                PolicyCompiler(options: LoadOptions(environment: [:])).compile(
                    source: source, name: file.path + "#policy")
            } else {
                PolicyCompiler(options: LoadOptions(environment: [:])).compile(path: file.policyPath ?? "")
            }
        guard let model = result.model else {
            throw FormatError(description: "\(file.path): policy has errors: \(result.diagnostics.map(\.message))")
        }
        return CompiledPolicy(model: model)
    }
}
