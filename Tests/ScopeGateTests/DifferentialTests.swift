import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate

/// The tests' seeded generator is the core's SplitMix64 (the synthetic policies use it too), so every run sees the
/// same policies; `int`, `chance` and `pick` come from the extension in PolicyGenerator.swift.
typealias SeededRNG = SplitMix64

@Suite struct DifferentialTests {
    static let seeds: [UInt64] = [1, 7, 42, 1234, 0x5C0BE, 0xDEC1DE, 2024, 99991]
    static let policiesPerSeed = 60
    static let callsPerPolicy = 60

    static let requiredRules = [
        "tool.exact", "tool.glob", "tool.glob.ordering", "tool.unknown", "tool.public",
        "grant.wildcard.defined", "grant.wildcard.undefined", "grant.unknown", "grant.deprecated",
        "closure.via_hierarchy", "req.any", "req.all",
        "action.ok", "action.unknown", "action.unknown.missing", "action.unknown.non_string",
        "action.unknown.undeclared",
        "when.equals", "when.in", "when.not_in", "when.gt", "when.gte", "when.lt", "when.lte", "when.prefix",
        "when.glob",
        "when.exists", "when.wrong_type", "when.absent", "when.matched", "when.not_matched", "when.in_action",
        "decision.allowed", "decision.missing_scope", "decision.missing.multi_part", "decision.missing.choice",
    ]
    // Rarer paths (not tool calls) still need a solid count.
    static let requiredOtherRules = [
        "resource.rule", "resource.unknown", "prompt.rule", "prompt.unknown",
        "method.builtin", "method.rule", "method.unknown",
    ]

    @Test func compiledMatcherAgreesWithReference() throws {
        var counts: [String: Int] = [:]
        var generated = 0
        var clean = 0
        var calls = 0
        var mismatches = 0
        var quickMismatches = 0
        for seed in Self.seeds {
            var generator = PolicyGenerator(rng: SeededRNG(seed: seed))
            for _ in 0..<Self.policiesPerSeed {
                let policy = generator.generate()
                generated += 1
                let result = PolicyCompiler().compile(source: policy.yaml, name: "gen.yaml")
                guard let model = result.model else { continue }
                clean += 1
                let compiled = CompiledPolicy(model: model)
                let reference = ReferenceEvaluator(model: model)
                for _ in 0..<Self.callsPerPolicy {
                    let call = generator.call(for: policy)
                    let strings = generator.grant(for: policy)
                    let grant = compiled.grant(strings)
                    let actual = compiled.decide(call, grant: grant)
                    let expected = reference.decide(call, granted: strings)
                    calls += 1
                    for tag in expected.tags { counts[tag, default: 0] += 1 }
                    let actualMissing = compiled.names(actual.missing)
                    // `isAllowed` (the yes/no fast path) must give the same answer as `decide` and the reference.
                    let quick = compiled.isAllowed(call, grant: grant)
                    if quick != expected.allowed { quickMismatches += 1 }
                    if actual.allowed != expected.allowed || actual.reason.rawValue != expected.reason
                        || actualMissing != expected.missing || quick != actual.allowed
                    {
                        mismatches += 1
                        if mismatches <= 5 {
                            print(
                                """
                                MISMATCH (seed \(seed))
                                --- policy ---
                                \(policy.yaml)--- grant --- \(strings)
                                --- call --- \(call.method) \(call.name) \(call.arguments.mapValues(\.jsonText))
                                compiled:  allowed=\(actual.allowed) isAllowed=\(quick) reason=\(actual.reason) missing=\(actualMissing)
                                reference: \(expected)
                                """)
                        }
                    }
                }
            }
        }
        print("differential: \(generated) policies, \(clean) error-free, \(calls) calls, \(mismatches) mismatches")
        for (tag, n) in counts.sorted(by: { $0.key < $1.key }) { print("  rule \(tag): \(n)") }
        #expect(mismatches == 0)
        #expect(quickMismatches == 0, "isAllowed disagreed with the reference \(quickMismatches) times")
        #expect(
            Double(clean) >= 0.95 * Double(generated),
            "only \(clean) of \(generated) generated policies compiled cleanly")
        #expect(calls >= 10_000)
        for rule in Self.requiredRules {
            #expect(counts[rule, default: 0] >= 500, "rule \(rule) exercised only \(counts[rule, default: 0]) times")
        }
        for rule in Self.requiredOtherRules {
            #expect(counts[rule, default: 0] >= 500, "rule \(rule) exercised only \(counts[rule, default: 0]) times")
        }
    }

    /// The reference's own building blocks, checked by hand so a broken reference cannot agree with a broken core.
    @Test func referenceGlobAndSpecificity() {
        #expect(ReferenceEvaluator.globMatches("a*b", "ab"))
        #expect(ReferenceEvaluator.globMatches("a*b", "axxb"))
        #expect(!ReferenceEvaluator.globMatches("a*b", "axxba"))
        #expect(ReferenceEvaluator.globMatches("*", ""))
        #expect(ReferenceEvaluator.globMatches("*a*a", "aaa"))
        #expect(!ReferenceEvaluator.globMatches("*a*a", "a"))
        #expect(ReferenceEvaluator.moreSpecific("automation_run*", than: "automation_*"))
        #expect(ReferenceEvaluator.moreSpecific("ab*c", than: "ab*"))
        #expect(ReferenceEvaluator.moreSpecific("ab*", than: "a*bc"))
        #expect(ReferenceEvaluator.moreSpecific("a*b", than: "a*b*"))
        let r = ReferenceEvaluator.resolve(
            "automation_run", patterns: ["*", "automation_*", "auto*run", "automation_run"])
        #expect(r?.index == 3 && r?.exact == true)
        let g = ReferenceEvaluator.resolve("automation_go", patterns: ["*", "auto*go", "automation_*"])
        #expect(g?.index == 2 && g?.matchingGlobs == 3)
    }

    /// Past 4096 clause combinations the completion search stays exact: a greedy pass would ask here for the 13
    /// scopes `a0…a12` (privilege 26) instead of the single `shared` (privilege 4).
    @Test func cheapestCompletionStaysExactPastSmallSearchSpaces() throws {
        let n = 13
        var yaml = "version: 1\nscopes:\n  base: {}\n  shared: { risk: sensitive }\n"
        for i in 0..<n { yaml += "  a\(i): {}\n" }
        yaml += "tools:\n  t:\n    requires: base\n    when:\n"
        for i in 0..<n {
            yaml += "      - { arguments: { x: { exists: true } }, requires: { any: [a\(i), shared] } }\n"
        }
        let model = try #require(PolicyCompiler().compile(source: yaml).model)
        let policy = CompiledPolicy(model: model)
        let call = Call.tool("t", arguments: ["x": .number(1)])
        let decision = policy.decide(call, grant: policy.grant(["base"]))
        #expect(policy.names(decision.missing) == ["shared"])
        #expect(ReferenceEvaluator(model: model).decide(call, granted: ["base"]).missing == ["shared"])
        // Holding `a0…a11` already, the last part is cheapest with `a12` (2 < 4).
        let most = (0..<12).map { "a\($0)" } + ["base"]
        #expect(policy.names(policy.decide(call, grant: policy.grant(most)).missing) == ["a12"])
    }

    @Test func referenceCheapestCompletionByHand() throws {
        let yaml = """
            version: 1
            scopes:
              read:files: {}
              write:files: { implies: [read:files] }
              admin:system: { implies: [write:files], risk: admin }
              cheap:a: { risk: low }
              cheap:b: { risk: low }
            tools:
              t: { requires: { any: [admin:system, { all: [cheap:a, cheap:b] }, write:files] } }
            """
        let model = try #require(PolicyCompiler().compile(source: yaml).model)
        let reference = ReferenceEvaluator(model: model)
        // write:files costs 2+2 = 4 marginal; cheap:a + cheap:b costs 2; admin costs 20.
        #expect(reference.decide(.tool("t"), granted: []).missing == ["cheap:a", "cheap:b"])
        // Holding read:files: write:files now adds only 2 and is one scope, so it wins the tie on count.
        #expect(reference.decide(.tool("t"), granted: ["read:files"]).missing == ["write:files"])
        #expect(reference.decide(.tool("t"), granted: ["admin:system"]).allowed)
        #expect(reference.closure(["admin:system"]) == ["admin:system", "write:files", "read:files"])
    }
}
