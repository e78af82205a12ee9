import Foundation
import Testing
@testable import ScopeGate

/// SplitMix64: a tiny, seedable, platform-independent generator, so every run sees the same policies.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
}

/// A random small policy rendered as YAML text, plus what the call generator needs to aim at it.
struct GeneratedPolicy {
    var yaml: String
    var concrete: [String] = []
    var wildcards: [String] = []
    var requirementClauses: [[String]] = []
    var exactTools: [String] = []
    var globTools: [String] = []
    var actionArguments: [String] = []
    var actionNames: [String] = []
    var resources: [String] = []
    var prompts: [String] = []
    var methods: [String] = []
}

/// Generates random policies exercising every feature of the decision semantics.
struct PolicyGenerator {
    var rng: SeededRNG

    static let namespaces = ["app", "app:files", "data", "ops:auto"]
    static let wildcardPool = ["app:*", "app:files:*", "data:*", "ops:*", "ops:auto:*", "*"]
    static let risks = ["low", "normal", "sensitive", "admin"]
    static let argumentNames = ["amount", "path", "mode", "flag"]
    static let nameAlphabet: [Character] = ["a", "b", "_"]

    // Literal pools shared by conditions and arguments, so matches are frequent.
    static let numberTexts = ["-1", "0", "5", "10", "10.5", "999.99", "1000", "1000.01", "2000"]
    static let stringTexts = ["fast", "slow", "/tmp/a.txt", "/tmp", "a.txt", "x", ""]

    mutating func name(length: ClosedRange<Int>) -> String {
        String((0..<rng.int(length)).map { _ in rng.pick(Self.nameAlphabet) })
    }

    static func q(_ s: String) -> String { JSONText.quote(s) }

    mutating func expression(_ pool: [String], depth: Int, clauses: inout [[String]]) -> String {
        if depth == 0 || rng.chance(0.45) {
            let s = rng.pick(pool)
            clauses.append([s])
            return Self.q(s)
        }
        let isAll = rng.chance(0.5)
        var sub: [[String]] = []
        let items = (0..<rng.int(2...3)).map { _ in
            var c: [[String]] = []
            let text = expression(pool, depth: depth - 1, clauses: &c)
            sub.append(c.flatMap { $0 })
            return text
        }
        if isAll { clauses.append(sub.flatMap { $0 }) } else { clauses += sub }
        return "{ \(isAll ? "all" : "any"): [\(items.joined(separator: ", "))] }"
    }

    mutating func literal() -> String {
        switch rng.int(0..<10) {
        case 0..<4: rng.pick(Self.numberTexts)
        case 4..<8: Self.q(rng.pick(Self.stringTexts.filter { !$0.isEmpty }))
        case 8: rng.chance(0.5) ? "true" : "false"
        default: "null"
        }
    }

    mutating func matcher() -> String {
        switch rng.int(0..<11) {
        case 0: return literal()   // bare literal: equals
        case 1: return "{ equals: \(literal()) }"
        case 2, 3:
            let op = rng.chance(0.5) ? "in" : "not_in"
            let numbers = rng.chance(0.5)
            let items = (0..<rng.int(1...3)).map { _ in numbers ? rng.pick(Self.numberTexts) : Self.q(rng.pick(Self.stringTexts)) }
            return "{ \(op): [\(items.joined(separator: ", "))] }"
        case 4: return "{ gt: \(rng.pick(Self.numberTexts)) }"
        case 5: return "{ gte: \(rng.pick(Self.numberTexts)) }"
        case 6: return "{ lt: \(rng.pick(Self.numberTexts)) }"
        case 7: return "{ lte: \(rng.pick(Self.numberTexts)) }"
        case 8: return "{ prefix: \(Self.q(rng.pick(["/tmp", "/tmp/", "a", "", "fa"]))) }"
        case 9: return "{ glob: \(Self.q(rng.pick(["*.txt", "/tmp/*", "*a*", "x", "f*t", "*"]))) }"
        default:
            if rng.chance(0.3) { return "{ gte: 0, lte: 1000 }" }   // two matchers on one argument
            return "{ exists: \(rng.chance(0.5) ? "true" : "false") }"
        }
    }

    mutating func whenList(_ pool: [String], clauses: inout [[String]]) -> String {
        let entries = (0..<rng.int(1...2)).map { _ in
            var args = Self.argumentNames
            args.shuffle(using: &rng)
            let conditions = args.prefix(rng.int(1...2)).map { "\(Self.q($0)): \(matcher())" }
            return "{ arguments: { \(conditions.joined(separator: ", ")) }, requires: \(expression(pool, depth: 1, clauses: &clauses)) }"
        }
        return "[\(entries.joined(separator: ", "))]"
    }

    mutating func generate() -> GeneratedPolicy {
        var p = GeneratedPolicy(yaml: "")
        var lines = ["version: 1", "scopes:"]
        // Concrete scopes: each may imply earlier ones (acyclic by construction).
        let n = rng.int(3...8)
        for i in 0..<n {
            let name = "\(rng.pick(Self.namespaces)):s\(i)"
            var fields: [String] = []
            if rng.chance(0.7) { fields.append("risk: \(rng.pick(Self.risks))") }
            if i > 0, rng.chance(0.5) {
                let targets = Set((0..<rng.int(1...2)).map { _ in p.concrete[rng.int(0..<i)] })
                fields.append("implies: [\(targets.sorted().map(Self.q).joined(separator: ", "))]")
            }
            p.concrete.append(name)
            lines.append("  \(Self.q(name)): { \(fields.joined(separator: ", ")) }")
        }
        var requirable = p.concrete
        // Deprecated scopes: behave as `implies: [use]`.
        for i in 0..<rng.int(0...2) {
            let name = "old:d\(i)"
            lines.append("  \(Self.q(name)): { deprecated: { use: \(Self.q(rng.pick(p.concrete))) }\(rng.chance(0.3) ? ", risk: low" : "") }")
            if rng.chance(0.2) { requirable.append(name) }   // named in a requirement: a warning only
            p.concrete.append(name)
        }
        // Defined wildcards (some may cover nothing: a warning only); rarely a concrete scope implies one.
        var pool = Self.wildcardPool
        pool.shuffle(using: &rng)
        for w in pool.prefix(rng.int(0...3)) where w != "*" || rng.chance(0.3) {
            let implies = rng.chance(0.2) ? ", implies: [\(Self.q(rng.pick(p.concrete)))]" : ""
            lines.append("  \(Self.q(w)): { risk: \(rng.pick(Self.risks))\(implies) }")
            p.wildcards.append(w)
        }
        if !p.wildcards.isEmpty, rng.chance(0.05) {
            // May close a cycle through wildcard coverage: the compiler must then reject the policy.
            lines.append("  \"zz:extra\": { implies: [\(Self.q(rng.pick(p.wildcards)))] }")
            p.concrete.append("zz:extra")
        }

        lines.append("tools:")
        var specificities = Set<[Int]>()
        var toolNames = Set<String>()
        for _ in 0..<rng.int(3...7) {
            var clauses: [[String]] = []
            let isGlob = rng.chance(0.45)
            var pattern = ""
            if isGlob {
                for _ in 0..<20 {
                    var chars = Array(name(length: 0...3))
                    for _ in 0..<rng.int(1...2) { chars.insert("*", at: rng.int(0...chars.count)) }
                    let candidate = String(chars)
                    if candidate.contains("**") { continue }
                    let s = ReferenceEvaluator.specificity(candidate)
                    // Distinct specificity: two globs can never be ambiguous.
                    if specificities.insert([s.0, s.1, s.2]).inserted { pattern = candidate; break }
                }
                if pattern.isEmpty { continue }
            } else {
                pattern = name(length: 1...4)
            }
            guard toolNames.insert(pattern).inserted else { continue }
            if isGlob { p.globTools.append(pattern) } else { p.exactTools.append(pattern) }
            let body: String
            switch rng.int(0..<10) {
            case 0: body = Self.q(rng.pick(requirable))
            case 1: body = "{ public: true }"
            case 2, 3, 4:
                var fields = ["requires: \(expression(requirable, depth: 2, clauses: &clauses))"]
                if rng.chance(0.6) { fields.append("when: \(whenList(requirable, clauses: &clauses))") }
                body = "{ \(fields.joined(separator: ", ")) }"
            case 5: body = expression(requirable, depth: 2, clauses: &clauses)
            default:
                var fields: [String] = []
                let hasRequires = rng.chance(0.5)
                if hasRequires { fields.append("requires: \(expression(requirable, depth: 1, clauses: &clauses))") }
                if rng.chance(0.5) {
                    let arg = rng.pick(["op", "kind"])
                    fields.append("action_argument: \(Self.q(arg))")
                    p.actionArguments.append(arg)
                } else {
                    p.actionArguments.append("action")
                }
                var actions: [String] = []
                for action in ["read", "write", "delete"].shuffled(using: &rng).prefix(rng.int(1...3)) {
                    p.actionNames.append(action)
                    switch rng.int(0..<4) {
                    case 0 where hasRequires: actions.append("\(action): null")
                    case 1, 2:
                        var f = ["requires: \(expression(requirable, depth: 1, clauses: &clauses))"]
                        if rng.chance(0.7) { f.append("when: \(whenList(requirable, clauses: &clauses))") }
                        actions.append("\(action): { \(f.joined(separator: ", ")) }")
                    default: actions.append("\(action): \(expression(requirable, depth: 1, clauses: &clauses))")
                    }
                }
                fields.append("actions: { \(actions.joined(separator: ", ")) }")
                if rng.chance(0.4) { fields.append("when: \(whenList(requirable, clauses: &clauses))") }
                body = "{ \(fields.joined(separator: ", ")) }"
            }
            p.requirementClauses += clauses
            lines.append("  \(Self.q(pattern)): \(body)")
        }
        // Resources, prompts and methods: small rule tables with globs.
        func patternSection(_ key: String, _ patterns: [String]) -> [String] {
            guard !patterns.isEmpty else { return [] }
            var out = ["\(key):"]
            for pattern in patterns {
                var clauses: [[String]] = []
                let body = rng.chance(0.15) ? "{ public: true }" : expression(requirable, depth: 1, clauses: &clauses)
                p.requirementClauses += clauses
                out.append("  \(Self.q(pattern)): \(body)")
            }
            return out
        }
        p.resources = Array(["clients://*", "clients://vip/*", "files://a", "*.txt"].shuffled(using: &rng).prefix(rng.int(0...3)))
        p.prompts = Array(["summary", "sum*", "*_p"].shuffled(using: &rng).prefix(rng.int(0...2)))
        p.methods = Array(["logging/setLevel", "custom/*", "ping"].shuffled(using: &rng).prefix(rng.int(0...2)))
        lines += patternSection("resources", p.resources)
        lines += patternSection("prompts", p.prompts)
        lines += patternSection("methods", p.methods)
        p.yaml = lines.joined(separator: "\n") + "\n"
        return p
    }

    // MARK: calls

    mutating func instantiate(_ glob: String) -> String {
        glob.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
            .joined(separator: name(length: 0...2))
    }

    mutating func value() -> JSONValue {
        switch rng.int(0..<20) {
        case 0..<8: return .number(Decimal(string: rng.pick(Self.numberTexts), locale: Locale(identifier: "en_US_POSIX")) ?? 0)
        case 8..<15: return .string(rng.pick(Self.stringTexts))
        case 15, 16: return .bool(rng.chance(0.5))
        case 17: return .null
        case 18: return .array([.number(1), .string("a")])
        default: return .object(["k": .number(1)])
        }
    }

    mutating func call(for p: GeneratedPolicy) -> Call {
        var arguments: [String: JSONValue] = [:]
        for a in Self.argumentNames where rng.chance(0.7) { arguments[a] = value() }
        for a in Set(p.actionArguments + ["action"]).sorted() {
            switch rng.int(0..<10) {
            case 0..<6: if !p.actionNames.isEmpty { arguments[a] = .string(rng.pick(p.actionNames)) }
            case 6: arguments[a] = .string("purge")
            case 7: arguments[a] = value()
            default: break
            }
        }
        switch rng.int(0..<100) {
        case 0..<35 where !p.exactTools.isEmpty: return .tool(rng.pick(p.exactTools), arguments: arguments)
        case 35..<70 where !p.globTools.isEmpty: return .tool(instantiate(rng.pick(p.globTools)), arguments: arguments)
        case 70..<78: return .tool(name(length: 0...5), arguments: arguments)
        case 78..<84:
            let uri = p.resources.isEmpty || rng.chance(0.2) ? "other://x"
                : instantiate(rng.pick(p.resources))
            return Call(method: "resources/read", name: uri, arguments: [:])
        case 84..<89:
            let prompt = p.prompts.isEmpty || rng.chance(0.2) ? "nope" : instantiate(rng.pick(p.prompts))
            return Call(method: "prompts/get", name: prompt, arguments: arguments)
        case 89..<100:
            let method = !p.methods.isEmpty && rng.chance(0.4) ? instantiate(rng.pick(p.methods))
                : rng.pick(["initialize", "ping", "notifications/initialized", "tools/list", "logging/setLevel",
                            "custom/run", "bogus/thing", "resources/templates/list", "completion/complete",
                            "sampling/createMessage"])
            return Call(method: method)
        default: return .tool(name(length: 1...4), arguments: arguments)
        }
    }

    mutating func grant(for p: GeneratedPolicy) -> [String] {
        var out: [String] = []
        if !p.requirementClauses.isEmpty, rng.chance(0.35) { out += rng.pick(p.requirementClauses) }
        for _ in 0..<rng.int(0...3) {
            switch rng.int(0..<20) {
            case 0..<11: out.append(rng.pick(p.concrete))
            case 11..<14: if !p.wildcards.isEmpty { out.append(rng.pick(p.wildcards)) }
            case 14..<17: out.append(rng.pick(Self.wildcardPool.filter { !p.wildcards.contains($0) } + ["zz:*", "app:s0:*"]))
            case 17, 18: out.append(rng.pick(["nope:x", "app", "APP:S0", "app:s99"]))
            default: out.append(rng.pick(["bad\"scope", "a b"]))
            }
        }
        return out
    }
}

@Suite struct DifferentialTests {
    static let seeds: [UInt64] = [1, 7, 42, 1234, 0x5C0BE, 0xDEC1DE, 2024, 99991]
    static let policiesPerSeed = 60
    static let callsPerPolicy = 60

    static let requiredRules = [
        "tool.exact", "tool.glob", "tool.glob.ordering", "tool.unknown", "tool.public",
        "grant.wildcard.defined", "grant.wildcard.undefined", "grant.unknown", "grant.deprecated",
        "closure.via_hierarchy", "req.any", "req.all",
        "action.ok", "action.unknown", "action.unknown.missing", "action.unknown.non_string", "action.unknown.undeclared",
        "when.equals", "when.in", "when.not_in", "when.gt", "when.gte", "when.lt", "when.lte", "when.prefix", "when.glob",
        "when.exists", "when.wrong_type", "when.absent", "when.matched", "when.not_matched", "when.in_action",
        "decision.allowed", "decision.missing_scope", "decision.missing.multi_part", "decision.missing.choice",
    ]
    // Rarer paths (not tool calls) still need a solid count.
    static let requiredOtherRules = ["resource.rule", "resource.unknown", "prompt.rule", "prompt.unknown",
                                     "method.builtin", "method.rule", "method.unknown"]

    @Test func compiledMatcherAgreesWithReference() throws {
        var counts: [String: Int] = [:]
        var generated = 0, clean = 0, calls = 0, mismatches = 0
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
                    if actual.allowed != expected.allowed || actual.reason.rawValue != expected.reason
                        || actualMissing != expected.missing {
                        mismatches += 1
                        if mismatches <= 5 {
                            print("""
                            MISMATCH (seed \(seed))
                            --- policy ---
                            \(policy.yaml)--- grant --- \(strings)
                            --- call --- \(call.method) \(call.name) \(call.arguments.mapValues(\.jsonText))
                            compiled:  allowed=\(actual.allowed) reason=\(actual.reason) missing=\(actualMissing)
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
        #expect(Double(clean) >= 0.95 * Double(generated), "only \(clean) of \(generated) generated policies compiled cleanly")
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
        let r = ReferenceEvaluator.resolve("automation_run", patterns: ["*", "automation_*", "auto*run", "automation_run"])
        #expect(r?.index == 3 && r?.exact == true)
        let g = ReferenceEvaluator.resolve("automation_go", patterns: ["*", "auto*go", "automation_*"])
        #expect(g?.index == 2 && g?.matchingGlobs == 3)
    }

    /// Regression: with more than 4096 clause combinations the matcher used to fall back to a greedy pass, which
    /// here asked for the 13 scopes `a0…a12` (privilege 26) instead of the single `shared` (privilege 4).
    @Test func cheapestCompletionStaysExactPastSmallSearchSpaces() throws {
        let n = 13
        var yaml = "version: 1\nscopes:\n  base: {}\n  shared: { risk: sensitive }\n"
        for i in 0..<n { yaml += "  a\(i): {}\n" }
        yaml += "tools:\n  t:\n    requires: base\n    when:\n"
        for i in 0..<n { yaml += "      - { arguments: { x: { exists: true } }, requires: { any: [a\(i), shared] } }\n" }
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
