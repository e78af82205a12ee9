import Foundation
import Testing

@testable import ScopeGate

/// `ResolvePass.merge` finds doubles through the name indexes (one hash per name): a double in the same file (two
/// keys that read the same after `${VAR}` substitution) and across files both point at the first definition.
@Suite struct MergeTests {
    @Test func doublesInOneFileNoteTheFirstDefinition() {
        let source =
            "version: 1\nscopes:\n  ${K}b: {}\n  ab: {}\ntools:\n  ${K}t: ab\n  at: ab\n  \"x*\": ab\n  \"${K}*\": ab\n  \"a*\": ab\n"
        let result = PolicyCompiler(options: LoadOptions(environment: ["K": "a"])).compile(
            source: source, name: "m.yaml")
        let doubles = result.diagnostics.filter { $0.code == .doubleDefinition }
        #expect(doubles.map { "\($0.location?.line ?? 0)" } == ["4", "7", "10"])
        #expect(doubles.map { "\($0.notes.first?.location?.line ?? 0)" } == ["3", "6", "9"])
        #expect(result.model == nil)
    }

    @Test func theModelIndexesPointAtTheKeptRules() throws {
        let source = "version: 1\nscopes:\n  a: {}\n  b: {}\ntools:\n  t1: a\n  \"t*\": b\n  t2: b\n"
        let model = try #require(PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).model)
        for (name, i) in model.scopeIndex { #expect(model.scopes[i].name == name) }
        for (name, i) in model.toolIndex { #expect(model.tools[i].pattern == name) }
        #expect(model.toolIndex.count == 2)
    }

    /// A hand-made model naming a tool twice (the compiler rejects it) resolves the name to its last rule, as a
    /// dictionary from name to rule would.
    @Test func aToolNamedTwiceInAHandMadeModelResolvesToItsLastRule() throws {
        let source = "version: 1\nscopes:\n  a: {}\n  b: {}\ntools:\n  t: a\n  u: b\n"
        var model = try #require(PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: source).model)
        var second = model.tools[0]
        second.requirement = model.tools[1].requirement
        model.tools.append(second)
        let policy = CompiledPolicy(model: model)
        #expect(policy.toolRuleIndex(for: "t") == 2)
        #expect(policy.decide(.tool("t"), grant: policy.grant(["b"])).allowed)
        #expect(!policy.decide(.tool("t"), grant: policy.grant(["a"])).allowed)
    }
}
