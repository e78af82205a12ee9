import Foundation
import ScopeGate

/// The generated policy as plain values, rendered to YAML and mined for samples.
struct Blueprint {
    struct Scope {
        var name: String
        var risk: Risk
        var implies: [String]
        var isWildcard: Bool { name.hasSuffix(":*") }
    }

    indirect enum Req {
        case scope(String)
        case all([Req])
        case any([Req])

        /// First clause of the DNF, enough to satisfy the requirement.
        var firstClause: [String] {
            switch self {
            case .scope(let s): [s]
            case .all(let items): items.flatMap(\.firstClause)
            case .any(let items): items.first?.firstClause ?? []
            }
        }

        /// Disjunctive normal form: the requirement holds iff some clause's scopes are all held.
        var clauses: [[String]] {
            switch self {
            case .scope(let s): [[s]]
            case .any(let items): items.flatMap(\.clauses)
            case .all(let items):
                items.reduce([[]]) { acc, item in acc.flatMap { a in item.clauses.map { a + $0 } } }
            }
        }

        var names: [String] {
            switch self {
            case .scope(let s): [s]
            case .all(let items), .any(let items): items.flatMap(\.names)
            }
        }
    }

    enum Condition {
        case gt(argument: String, bound: Int)
        case `in`(argument: String, values: [String])
        case prefix(argument: String, prefix: String)

        /// Arguments that match the condition.
        var matching: [String: JSONValue] {
            switch self {
            case .gt(let a, let bound): [a: .number(Decimal(bound + 1))]
            case .in(let a, let values): [a: .string(values.first ?? "")]
            case .prefix(let a, let p): [a: .string(p + "report.txt")]
            }
        }

        /// Whether `arguments` match, with the policy's semantics for the types this generator produces.
        func matches(_ arguments: [String: JSONValue]) -> Bool {
            switch self {
            case .gt(let a, let bound):
                if case .number(let n)? = arguments[a] { return n > Decimal(bound) }
            case .in(let a, let values):
                if case .string(let s)? = arguments[a] { return values.contains(s) }
            case .prefix(let a, let p):
                if case .string(let s)? = arguments[a] { return s.hasPrefix(p) }
            }
            return false
        }
    }

    struct When {
        var condition: Condition
        var requires: Req
    }

    struct Action {
        var name: String
        var requires: Req
    }

    struct Tool {
        var name: String
        var isPublic = false
        var requires: Req?
        var actions: [Action] = []
        var when: [When] = []
        var description: String?
    }

    var scopes: [Scope] = []
    /// Names of the concrete (non-wildcard) scopes, in definition order.
    var concrete: [String] = []
    /// Names of the `read` scopes (they imply nothing), in definition order.
    var reads: [String] = []
    /// Resource triples (read, write, admin) in definition order.
    var resources: [(read: String, write: String, admin: String)] = []
    var tools: [Tool] = []

    init(tools toolCount: Int, scopes scopeCount: Int, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        buildScopes(max(scopeCount, 8), &rng)
        buildTools(max(toolCount, 1), &rng)
    }

    // MARK: scopes

    mutating func buildScopes(_ target: Int, _ rng: inout SplitMix64) {
        let areasPerService = 5
        let resourcesPerArea = 4
        var service = 0
        while scopes.count < target {
            // A service needs room for at least one resource chain plus its wildcard to be worth a wildcard.
            if service % 5 == 3, target - scopes.count >= 4 {
                scopes.append(Scope(name: "svc\(service):*", risk: .admin, implies: []))
            }
            area: for area in 0..<areasPerService {
                let prefix = "svc\(service):area\(area)"
                var admins: [String] = []
                let areaWildcard = service % 7 == 1 && area == 0 && target - scopes.count >= 4
                if areaWildcard { scopes.append(Scope(name: "\(prefix):*", risk: .admin, implies: [])) }
                for res in 0..<resourcesPerArea {
                    let remaining = target - scopes.count
                    if remaining <= 0 { break area }
                    let base = "\(prefix):res\(res)"
                    let read = base + ":read"
                    let write = base + ":write"
                    let admin = base + ":admin"
                    scopes.append(Scope(name: read, risk: rng.chance(60) ? .low : .normal, implies: []))
                    concrete.append(read)
                    reads.append(read)
                    if remaining >= 3 {
                        scopes.append(Scope(name: write, risk: rng.chance(30) ? .sensitive : .normal, implies: [read]))
                        scopes.append(Scope(name: admin, risk: .admin, implies: [write]))
                        concrete.append(contentsOf: [write, admin])
                        resources.append((read, write, admin))
                        admins.append(admin)
                    }
                }
                if !admins.isEmpty, scopes.count < target {
                    let manage = prefix + ":manage"
                    scopes.append(Scope(name: manage, risk: .admin, implies: admins))
                    concrete.append(manage)
                }
            }
            service += 1
        }
    }

    // MARK: tools

    mutating func pick(_ rng: inout SplitMix64) -> String {
        // Mostly reads and writes, some admin and manage scopes: a realistic spread of privilege.
        let roll = rng.below(100)
        if !resources.isEmpty {
            let r = resources[rng.below(resources.count)]
            if roll < 45 { return r.read }
            if roll < 85 { return r.write }
            if roll < 97 { return r.admin }
        }
        return concrete[rng.below(concrete.count)]
    }

    mutating func clause(_ rng: inout SplitMix64) -> Req {
        rng.chance(35) ? .all([.scope(pick(&rng)), .scope(pick(&rng))]) : .scope(pick(&rng))
    }

    mutating func condition(_ rng: inout SplitMix64) -> Condition {
        switch rng.below(3) {
        case 0: return .gt(argument: "amount", bound: 100 * (1 + rng.below(50)))
        case 1:
            let regions = ["eu", "us", "apac", "latam"]
            let first = rng.below(regions.count)
            return .in(argument: "region", values: [regions[first], regions[(first + 1) % regions.count]])
        default: return .prefix(argument: "path", prefix: ["/admin/", "/finance/", "/hr/"][rng.below(3)])
        }
    }

    mutating func buildTools(_ count: Int, _ rng: inout SplitMix64) {
        var globs = 0
        let width = String(count).count
        for i in 0..<count {
            var number = String(i)
            number = String(repeating: "0", count: max(0, width - number.count)) + number
            if i % 1000 == 7 {
                tools.append(Tool(name: "tool_\(number)", isPublic: true))
                continue
            }
            if i % 100 == 50 {
                // Distinct numeric prefixes `batch_<g>_`: no two globs overlap, none shadows another.
                var tool = Tool(name: "batch_\(globs)_*", requires: .scope(pick(&rng)))
                if globs % 2 == 0 {
                    tool.when = [When(condition: .gt(argument: "count", bound: 100), requires: .scope(pick(&rng)))]
                }
                globs += 1
                tools.append(tool)
                continue
            }
            var tool = Tool(name: "tool_\(number)")
            let roll = rng.below(100)
            switch roll {
            case 0..<40:
                tool.requires = .any((0..<(2 + rng.below(3))).map { _ in clause(&rng) })
            case 40..<55:
                tool.requires = .scope(pick(&rng))
            case 55..<62:
                tool.requires = .all([.scope(pick(&rng)), .scope(pick(&rng))])
            case 62..<75:
                let r =
                    resources.isEmpty
                    ? (pick(&rng), pick(&rng), pick(&rng))
                    : resources[rng.below(resources.count)]
                tool.actions = [
                    Action(name: "read", requires: .scope(r.0)),
                    Action(name: "write", requires: .scope(r.1)),
                    Action(name: "delete", requires: .scope(r.2)),
                ]
            case 75..<90:
                tool.requires = rng.chance(50) ? .scope(pick(&rng)) : .any([clause(&rng), clause(&rng)])
                tool.when = (0..<(1 + rng.below(2))).map { _ in
                    When(condition: condition(&rng), requires: .scope(pick(&rng)))
                }
            default:
                tool.requires = .scope(pick(&rng))
                tool.description = "Synthetic tool \(i)"
            }
            tools.append(tool)
        }
    }

    // MARK: rendering

    static func quoted(_ s: String) -> String { "\"" + s + "\"" }

    static func render(_ r: Req) -> String {
        switch r {
        case .scope(let s): quoted(s)
        case .all(let items): "{all: [" + items.map(render).joined(separator: ", ") + "]}"
        case .any(let items): "{any: [" + items.map(render).joined(separator: ", ") + "]}"
        }
    }

    static func render(_ c: Condition) -> String {
        switch c {
        case .gt(let a, let bound): "\(a): {gt: \(bound)}"
        case .in(let a, let values): "\(a): {in: [" + values.map(quoted).joined(separator: ", ") + "]}"
        case .prefix(let a, let p): "\(a): {prefix: \(quoted(p))}"
        }
    }

    func render() -> String {
        var out =
            "# Synthetic ScopeGate policy: \(tools.count) tools, \(scopes.count) scopes (generated, do not edit)\n"
        out.reserveCapacity(tools.count * 96 + scopes.count * 80)
        out += "version: 1\n\nscopes:\n"
        for scope in scopes {
            out += "  " + Self.quoted(scope.name) + ": {risk: " + scope.risk.rawValue
            if !scope.implies.isEmpty {
                out += ", implies: [" + scope.implies.map(Self.quoted).joined(separator: ", ") + "]"
            }
            out += "}\n"
        }
        out += "\ntools:\n"
        for tool in tools {
            out += "  " + Self.quoted(tool.name) + ": "
            if tool.isPublic {
                out += "{public: true}\n"
                continue
            }
            if !tool.actions.isEmpty {
                out += "{action_argument: action, actions: {"
                out += tool.actions.map { "\($0.name): {requires: \(Self.render($0.requires))}" }.joined(
                    separator: ", ")
                out += "}}\n"
                continue
            }
            var fields: [String] = []
            if let requires = tool.requires { fields.append("requires: " + Self.render(requires)) }
            if let description = tool.description { fields.append("description: " + Self.quoted(description)) }
            if !tool.when.isEmpty {
                fields.append(
                    "when: ["
                        + tool.when.map {
                            "{arguments: {\(Self.render($0.condition))}, requires: \(Self.render($0.requires))}"
                        }.joined(separator: ", ") + "]")
            }
            out += "{" + fields.joined(separator: ", ") + "}\n"
        }
        return out
    }

    // MARK: samples

    func kind(of tool: Tool) -> SyntheticPolicy.SampleKind? {
        if tool.isPublic { return nil }
        if tool.name.contains("*") { return tool.when.isEmpty ? nil : .globTool }
        if !tool.actions.isEmpty { return .action }
        if !tool.when.isEmpty { return .conditional }
        return .exactTool
    }

    /// A `read` scope not named anywhere in `names` (reads imply nothing, so it satisfies no other clause).
    func unrelatedRead(avoiding names: [String], _ rng: inout SplitMix64) -> String? {
        for _ in 0..<64 {
            let candidate = reads[rng.below(reads.count)]
            if !names.contains(candidate) { return candidate }
        }
        return reads.first { !names.contains($0) }
    }

    func samples(count: Int, seed: UInt64, includeDenials: Bool) -> [SyntheticPolicy.Sample] {
        var rng = SplitMix64(seed: seed ^ 0x7361_6d70_6c65)
        var byKind: [SyntheticPolicy.SampleKind: [Tool]] = [:]
        for tool in tools { if let k = kind(of: tool) { byKind[k, default: []].append(tool) } }
        let kinds = SyntheticPolicy.SampleKind.allCases.filter { byKind[$0]?.isEmpty == false }
        guard !kinds.isEmpty else { return [] }
        var out: [SyntheticPolicy.Sample] = []
        var attempts = 0
        while out.count < max(count, 0), attempts < count * 4 + 16 {
            attempts += 1
            let kind = kinds[out.count % kinds.count]
            let pool = byKind[kind] ?? []
            let tool = pool[rng.below(pool.count)]
            let deny = includeDenials && (out.count / kinds.count) % 2 == 1
            var name = tool.name
            var arguments: [String: JSONValue] = [:]
            // Requirement parts (ANDed) that apply to the call.
            var parts: [Req] = []
            if let requires = tool.requires { parts.append(requires) }
            switch kind {
            case .exactTool:
                break
            case .action:
                let action = tool.actions[rng.below(tool.actions.count)]
                arguments["action"] = .string(action.name)
                parts.append(action.requires)
            case .conditional:
                let when = tool.when[rng.below(tool.when.count)]
                arguments.merge(when.condition.matching) { a, _ in a }
                parts.append(contentsOf: tool.when.filter { $0.condition.matches(arguments) }.map(\.requires))
            case .globTool:
                name = String(tool.name.dropLast()) + "run"
                arguments["count"] = .number(500)
                parts.append(contentsOf: tool.when.filter { $0.condition.matches(arguments) }.map(\.requires))
            }
            var granted: [String] = []
            for part in parts { for s in part.firstClause where !granted.contains(s) { granted.append(s) } }
            if deny {
                let named = parts.flatMap(\.names)
                guard let first = parts.first?.firstClause.first, let replacement = unrelatedRead(avoiding: named, &rng)
                else { continue }
                granted = granted.map { $0 == first ? replacement : $0 }
                // Another clause of the first part may still be covered by the rest of the grant (say, a scope
                // granted for a `when`): then this is no denial, so try another tool.
                let covered = parts[0].clauses.contains { clause in
                    clause.allSatisfy { needed in granted.contains { implies($0, needed) } }
                }
                if covered { continue }
            }
            out.append(
                .init(kind: kind, call: .tool(name, arguments: arguments), granted: granted, expectAllowed: !deny))
        }
        return out
    }

    /// Whether `a`'s closure contains `b`, from the naming scheme (write → read, admin → write → read,
    /// manage → the area's resources, wildcards → their prefix).
    func implies(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        if a.hasSuffix(":*") { return b.hasPrefix(String(a.dropLast())) }
        func resource(_ s: String) -> Substring { s[..<(s.lastIndex(of: ":") ?? s.endIndex)] }
        let rank = ["read": 0, "write": 1, "admin": 2]
        let la = a.split(separator: ":").last.map(String.init) ?? ""
        let lb = b.split(separator: ":").last.map(String.init) ?? ""
        if la == "manage" { return b.hasPrefix(String(resource(a)) + ":res") }
        guard let ra = rank[la], let rb = rank[lb], resource(a) == resource(b) else { return false }
        return ra >= rb
    }
}
