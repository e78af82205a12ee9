import Foundation

@testable import ScopeGate

// The random policy, grant and call generator of the differential tests, shared with the structure-aware fuzz
// target (scripts/fuzz.sh compiles this file into `Fuzz/differential`): no swift-testing here. The tests drive it
// with a seeded RNG, the fuzzer with one that replays its input bytes.

extension RandomNumberGenerator {
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
struct PolicyGenerator<RNG: RandomNumberGenerator> {
    var rng: RNG

    // Pools (computed: a generic type cannot have static stored properties).
    static var namespaces: [String] { ["app", "app:files", "data", "ops:auto"] }
    static var wildcardPool: [String] { ["app:*", "app:files:*", "data:*", "ops:*", "ops:auto:*", "*"] }
    static var risks: [String] { ["low", "normal", "sensitive", "admin"] }
    static var argumentNames: [String] { ["amount", "path", "mode", "flag"] }
    static var nameAlphabet: [Character] { ["a", "b", "_"] }

    // Literal pools shared by conditions and arguments, so matches are frequent.
    static var numberTexts: [String] { ["-1", "0", "5", "10", "10.5", "999.99", "1000", "1000.01", "2000"] }
    static var stringTexts: [String] { ["fast", "slow", "/tmp/a.txt", "/tmp", "a.txt", "x", ""] }

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
        case 0: return literal()  // bare literal: equals
        case 1: return "{ equals: \(literal()) }"
        case 2, 3:
            let op = rng.chance(0.5) ? "in" : "not_in"
            let numbers = rng.chance(0.5)
            let items = (0..<rng.int(1...3)).map { _ in
                numbers ? rng.pick(Self.numberTexts) : Self.q(rng.pick(Self.stringTexts))
            }
            return "{ \(op): [\(items.joined(separator: ", "))] }"
        case 4: return "{ gt: \(rng.pick(Self.numberTexts)) }"
        case 5: return "{ gte: \(rng.pick(Self.numberTexts)) }"
        case 6: return "{ lt: \(rng.pick(Self.numberTexts)) }"
        case 7: return "{ lte: \(rng.pick(Self.numberTexts)) }"
        case 8: return "{ prefix: \(Self.q(rng.pick(["/tmp", "/tmp/", "a", "", "fa"]))) }"
        case 9: return "{ glob: \(Self.q(rng.pick(["*.txt", "/tmp/*", "*a*", "x", "f*t", "*"]))) }"
        default:
            if rng.chance(0.3) { return "{ gte: 0, lte: 1000 }" }  // two matchers on one argument
            return "{ exists: \(rng.chance(0.5) ? "true" : "false") }"
        }
    }

    mutating func whenList(_ pool: [String], clauses: inout [[String]]) -> String {
        let entries = (0..<rng.int(1...2)).map { _ in
            var args = Self.argumentNames
            args.shuffle(using: &rng)
            let conditions = args.prefix(rng.int(1...2)).map { "\(Self.q($0)): \(matcher())" }
            return
                "{ arguments: { \(conditions.joined(separator: ", ")) }, requires: \(expression(pool, depth: 1, clauses: &clauses)) }"
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
            lines.append(
                "  \(Self.q(name)): { deprecated: { use: \(Self.q(rng.pick(p.concrete))) }\(rng.chance(0.3) ? ", risk: low" : "") }"
            )
            if rng.chance(0.2) { requirable.append(name) }  // named in a requirement: a warning only
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
                    if specificities.insert([s.0, s.1, s.2]).inserted {
                        pattern = candidate
                        break
                    }
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
        p.resources = Array(
            ["clients://*", "clients://vip/*", "files://a", "*.txt"].shuffled(using: &rng).prefix(rng.int(0...3)))
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
        case 0..<8:
            return .number(Decimal(string: rng.pick(Self.numberTexts), locale: Locale(identifier: "en_US_POSIX")) ?? 0)
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
            let uri =
                p.resources.isEmpty || rng.chance(0.2)
                ? "other://x"
                : instantiate(rng.pick(p.resources))
            return Call(method: "resources/read", name: uri, arguments: [:])
        case 84..<89:
            let prompt = p.prompts.isEmpty || rng.chance(0.2) ? "nope" : instantiate(rng.pick(p.prompts))
            return Call(method: "prompts/get", name: prompt, arguments: arguments)
        case 89..<100:
            let method =
                !p.methods.isEmpty && rng.chance(0.4)
                ? instantiate(rng.pick(p.methods))
                : rng.pick([
                    "initialize", "ping", "notifications/initialized", "tools/list", "logging/setLevel",
                    "custom/run", "bogus/thing", "resources/templates/list", "completion/complete",
                    "sampling/createMessage",
                ])
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
            case 14..<17:
                out.append(rng.pick(Self.wildcardPool.filter { !p.wildcards.contains($0) } + ["zz:*", "app:s0:*"]))
            case 17, 18: out.append(rng.pick(["nope:x", "app", "APP:S0", "app:s99"]))
            default: out.append(rng.pick(["bad\"scope", "a b"]))
            }
        }
        return out
    }
}
