import Foundation
import ScopeGate
import Testing

@testable import ScopeGateTestSupport

/// The decision corpus (Tests/Corpus) through the built CLI: each file becomes one `check --batch` run, one
/// request line per case, and the same record fields are compared as in the library test.
@Suite("corpus through the CLI")
struct CorpusCLITests {
    @Test(arguments: try Corpus.files().map(\.lastPathComponent))
    func corpusFileThroughBatch(_ fileName: String) throws {
        let file = try Corpus.load(Corpus.directory.appendingPathComponent(fileName))
        let policyPath: String
        if let source = file.policySource {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-corpus-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let url = dir.appendingPathComponent("policy.yaml")
            try Data(source.utf8).write(to: url)
            policyPath = url.path
        } else {
            policyPath = file.policyPath ?? ""
        }
        let input =
            file.cases.map { c in
                "{\"method\":\(JSONText.quote(c.method)),\"tool\":\(JSONText.quote(c.tool)),\"arguments\":"
                    + JSONValue.object(c.arguments).jsonText + ",\"scopes\":" + JSONText.array(c.scopes) + "}"
            }.joined(separator: "\n") + "\n"
        let result = try CLIRunner.run(["check", "--policy", policyPath, "--batch", "-"], stdin: input)
        #expect(result.status == 0, "\(fileName): \(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        try #require(lines.count == file.cases.count, "\(fileName): one output line per case")
        for (c, line) in zip(file.cases, lines) {
            guard case .object(let record) = try JSONParser().parse(String(line)) else {
                Issue.record("\(c): not a JSON object: \(line)")
                continue
            }
            #expect(record["allowed"] == .bool(c.allowed), "\(c): allowed")
            #expect(record["reason"] == .string(c.reason), "\(c): reason")
            #expect(record["missing"] == .array((c.missing ?? []).map { .string($0) }), "\(c): missing")
            if let challenge = c.challenge {
                #expect(record["challenge"] == .string(challenge), "\(c): challenge")
            } else if c.reason != "missing_scope" {
                #expect(record["challenge"] == .null, "\(c): no challenge")
            }
            if let ignored = c.ignored, case .array(let items)? = record["ignored"] {
                let scopes = items.compactMap { item -> String? in
                    if case .object(let o) = item, case .string(let s)? = o["scope"] { return s }
                    return nil
                }
                #expect(scopes == ignored, "\(c): ignored")
            }
        }
    }
}
