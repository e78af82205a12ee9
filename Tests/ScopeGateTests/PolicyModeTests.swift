import Foundation
import Testing

@testable import ScopeGate

/// `mode:` at the top level and on tools: decoding, bad values, the lint warning, and the mode of a decision.
@Suite struct PolicyModeTests {
    func compile(_ source: String) -> CompileResult {
        PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source, name: "p.yaml")
    }

    let base = """
        version: 1
        scopes:
          files:read: {}
        tools:
          read_file: files:read
          write_file: { requires: files:read, mode: enforce }
          "export_*": { requires: files:read, mode: shadow }
        """

    @Test func theTopLevelAndEachToolDecode() throws {
        let model = try compile("mode: shadow\n" + base).compiled().model
        #expect(model.mode == .shadow)
        #expect(model.modeLocation?.line == 1)
        #expect(model.tools.map(\.mode) == [nil, .enforce, .shadow])
        // A tool's own mode wins; without one, the top level; not a tool rule: the top level.
        #expect(model.mode(ofToolRule: 0) == .shadow)
        #expect(model.mode(ofToolRule: 1) == .enforce)
        #expect(model.mode(ofToolRule: nil) == .shadow)
        #expect(model.hasShadowMode)
    }

    @Test func withoutModeEverythingIsEnforced() throws {
        let model = try compile("version: 1\nscopes:\n  a: {}\ntools:\n  t: a\n").compiled().model
        #expect(model.mode == nil)
        #expect(model.mode(ofToolRule: 0) == .enforce)
        #expect(!model.hasShadowMode)
    }

    @Test func anUnknownModeIsAnErrorWithASuggestion() {
        let result = compile("mode: shadwo\n" + base.replacingOccurrences(of: "mode: enforce", with: "mode: [enforce]"))
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(result.model == nil)
        #expect(errors.map(\.code.id).sorted() == ["SG102", "SG105"])
        let invalid = errors.first { $0.code.id == "SG105" }
        #expect(invalid?.message == "unknown mode `shadwo` in `mode`; did you mean `shadow`?")
        #expect(invalid?.location?.line == 1)
    }

    @Test func shadowModeIsALintWarningOncePerPlace() {
        let top = compile("mode: shadow\n" + base).diagnostics.filter { $0.code.id == "SG706" }
        #expect(top.count == 1)
        #expect(top.first?.severity == .warning)
        #expect(top.first?.location?.line == 1)
        let tools = compile(base).diagnostics.filter { $0.code.id == "SG706" }
        #expect(tools.map(\.message) == ["tool `export_*` is in shadow mode: its denials are logged, not enforced"])
        #expect(
            compile("mode: enforce\n" + base.replacingOccurrences(of: "mode: shadow", with: "mode: enforce"))
                .diagnostics.filter { $0.code.id == "SG706" }.isEmpty)
    }

    @Test func theSchemaKnowsMode() {
        #expect(PolicySchema.json.contains(##""mode": { "$ref": "#/definitions/mode" }"##))
        #expect(PolicySchema.json.contains(#""enum": ["enforce", "shadow"]"#))
    }
}
