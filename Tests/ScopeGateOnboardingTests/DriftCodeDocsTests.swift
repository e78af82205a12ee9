import Foundation
import ScopeGate
import Testing

@testable import ScopeGateOnboarding

@Suite struct DriftCodeDocsTests {
    @Test func everyDriftCodeHasASectionInDiagnosticsMD() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/diagnostics.md"), encoding: .utf8)
        let lines = Set(docs.split(separator: "\n").map(String.init))
        for code in DriftCheck.codes {
            #expect(docs.contains("<a id=\"\(code.id.lowercased())\"></a>"), "no anchor for \(code.id)")
            #expect(lines.contains("## \(code.id) \(code.name)"), "no heading for \(code.id)")
        }
    }

    @Test func theSARIFLogListsTheDriftCodesAsRules() throws {
        let finding = Diagnostic(DriftCheck.missingTool, "gone", at: nil, help: "remove it")
        let sarif = DiagnosticRenderer(sources: [:]).sarif(
            Diagnostics([finding]), toolVersion: "1", rules: DriftCheck.codes)
        guard case .object(let log) = try JSONParser().parse(sarif), case .array(let runs)? = log["runs"],
            case .object(let run)? = runs.first, case .object(let tool)? = run["tool"],
            case .object(let driver)? = tool["driver"], case .array(let rules)? = driver["rules"]
        else {
            Issue.record("not a SARIF log: \(sarif)")
            return
        }
        #expect(rules.count == DriftCheck.codes.count)
        #expect(sarif.contains(#""ruleId":"SGD03","ruleIndex":2"#))
        #expect(sarif.contains("docs/diagnostics.md#sgd03"))
    }
}
