import ScopeGateTesting
import Testing

@testable import ScopeGate

/// The seeded generator feeds benchmarks and differential tests, so its output must compile cleanly, have the
/// promised shape, and never change for a given seed.
@Suite struct SyntheticPolicyTests {
    static let large = SyntheticPolicy.generate(tools: 10_000, scopes: 5_000, seed: 42)

    static func compile(_ text: String) -> CompileResult {
        PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: text, name: "synthetic.yaml")
    }

    @Test func largePolicyCompilesWithoutErrors() throws {
        let result = Self.compile(Self.large)
        let errors = result.diagnostics.filter { $0.severity == .error }
        #expect(errors.isEmpty, "first errors: \(errors.prefix(3).map(\.message))")
        let compiled = try result.compiled()
        #expect(compiled.model.tools.count == 10_000)
        #expect(compiled.scopes.count == 5_000)
    }

    @Test(arguments: [100, 1_000])
    func smallerPoliciesCompileWithoutErrors(tools: Int) {
        let result = Self.compile(SyntheticPolicy.generate(tools: tools, scopes: 5_000, seed: 7))
        #expect(!result.diagnostics.hasErrors)
        #expect(result.model?.tools.count == tools)
    }

    @Test func shapeIsAsPromised() throws {
        let model = try #require(Self.compile(Self.large).model)
        let tools = model.tools
        // At least 30% of tools need `any` of 2–4 alternatives, and some alternatives are `all` of two.
        let anyTools = tools.filter { tool in
            if case .any(let items, _)? = tool.requirement?.expression { return (2...4).contains(items.count) }
            return false
        }
        #expect(Double(anyTools.count) >= 0.30 * Double(tools.count))
        #expect(
            anyTools.contains { tool in
                guard case .any(let items, _)? = tool.requirement?.expression else { return false }
                return items.contains { if case .all(let pair, _) = $0 { pair.count == 2 } else { false } }
            })
        // Globs with distinct prefixes, actions on the `action` argument, conditions, public tools.
        let globs = tools.filter(\.isGlob)
        #expect(globs.count >= 50)
        #expect(Set(globs.map { $0.pattern.prefix { $0 != "*" } }).count == globs.count)
        #expect(tools.contains { $0.actions?.count == 3 && $0.actionArgument == "action" })
        let matchers = Set(tools.flatMap { $0.when.flatMap { $0.conditions.flatMap { $0.matchers.map(\.name) } } })
        #expect(matchers.isSuperset(of: ["gt", "in", "prefix"]))
        #expect(tools.contains { $0.isPublic })
        // Risks mixed, wildcards defined, and a scope hierarchy at least four deep.
        #expect(Set(model.scopes.map(\.risk)) == Set(Risk.allCases))
        #expect(model.scopes.contains { $0.name == "svc3:*" })
        #expect(Self.longestImplicationChain(model) >= 4)
    }

    /// Number of scopes on the longest `implies` path (wildcard coverage not counted).
    static func longestImplicationChain(_ model: PolicyModel) -> Int {
        var memo: [String: Int] = [:]
        let byName = Dictionary(uniqueKeysWithValues: model.scopes.map { ($0.name, $0) })
        func depth(_ name: String) -> Int {
            if let d = memo[name] { return d }
            let d = 1 + (byName[name]?.implies.map(depth).max() ?? 0)
            memo[name] = d
            return d
        }
        return model.scopes.map { depth($0.name) }.max() ?? 0
    }

    @Test func deterministicForASeed() {
        #expect(SyntheticPolicy.generate(tools: 10_000, scopes: 5_000, seed: 42) == Self.large)
        #expect(
            SyntheticPolicy.generate(tools: 500, scopes: 300, seed: 1)
                != SyntheticPolicy.generate(tools: 500, scopes: 300, seed: 2))
        #expect(
            SyntheticPolicy.sampleCalls(tools: 1_000, scopes: 500, seed: 9, count: 40)
                == SyntheticPolicy.sampleCalls(tools: 1_000, scopes: 500, seed: 9, count: 40))
    }

    /// Samples are built to be allowed or denied; the compiled matcher must agree with every one of them.
    @Test func samplesDecideAsBuilt() throws {
        let compiled = try Self.compile(SyntheticPolicy.generate(tools: 2_000, scopes: 1_000, seed: 5)).compiled()
        let samples = SyntheticPolicy.sampleCalls(tools: 2_000, scopes: 1_000, seed: 5, count: 400)
        #expect(samples.count == 400)
        #expect(Set(samples.map(\.kind)) == Set(SyntheticPolicy.SampleKind.allCases))
        #expect(samples.contains { $0.expectAllowed } && samples.contains { !$0.expectAllowed })
        for sample in samples {
            let decision = compiled.decide(sample.call, grant: compiled.grant(sample.granted))
            #expect(decision.allowed == sample.expectAllowed, "\(sample.kind) \(sample.call.name) \(sample.granted)")
            if !sample.expectAllowed { #expect(decision.reason == .missingScope && !decision.missing.isEmpty) }
        }
    }

    @Test func helpersNameDefinedThings() throws {
        let compiled = try Self.compile(SyntheticPolicy.generate(tools: 1_000, scopes: 500, seed: 3)).compiled()
        let names = SyntheticPolicy.toolNames(tools: 1_000, scopes: 500, seed: 3, count: 100)
        #expect(Set(names).count == 100)
        #expect(names.allSatisfy { compiled.toolRuleIndex(for: $0) != nil })
        let granted = SyntheticPolicy.grantStrings(tools: 1_000, scopes: 500, seed: 3, count: 10)
        #expect(granted.count == 10)
        #expect(compiled.grant(granted).ignored.isEmpty)
    }
}
