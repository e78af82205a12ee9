import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate

private let lpRepoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private func lpPolicy(_ relative: String) throws -> CompiledPolicy {
    try PolicyCompiler().compile(path: lpRepoRoot.appendingPathComponent(relative).path).compiled()
}
private func compileSource(_ yaml: String) throws -> CompiledPolicy {
    try PolicyCompiler().compile(source: yaml).compiled()
}

/// A random small policy for the solver: a scope DAG with risks and wildcards, tools with any/all trees.
private struct SolverInstance {
    var scopes: [(name: String, risk: Risk, implies: [String])] = []
    var wildcards: [(name: String, risk: Risk)] = []
    var tools: [(name: String, requires: String?, actions: [(String, String)])] = []

    /// With `clusters > 0`, scope `i` belongs to cluster `i % clusters`, implies only scopes of its cluster, and each
    /// tool names scopes of one cluster: instances that split into independent components.
    static func random(
        _ rng: inout SeededRNG, maxScopes: Int, maxTools: Int = 4, impliesChance: Double = 0.2,
        clusters: Int = 0
    ) -> SolverInstance {
        var inst = SolverInstance()
        let groups = ["a", "b", "c"]
        let wildcardCount = rng.int(0...2)
        let concrete = rng.int(2...max(2, maxScopes - wildcardCount))
        for i in 0..<concrete {
            var implies: [String] = []
            for j in 0..<i where (clusters == 0 || j % clusters == i % clusters) && rng.chance(impliesChance) {
                implies.append(inst.scopes[j].name)
            }
            inst.scopes.append(("\(rng.pick(groups)):s\(i)", rng.pick(Risk.allCases), implies))
        }
        for g in groups.shuffled(using: &rng).prefix(wildcardCount) {
            inst.wildcards.append(("\(g):*", rng.pick(Risk.allCases)))
        }
        var pool = inst.scopes.map(\.name)
        func expr(_ depth: Int) -> String {
            if depth >= 2 || rng.chance(0.4) { return rng.pick(pool) }
            let children = (0..<rng.int(1...3)).map { _ in expr(depth + 1) }
            return "{ \(rng.chance(0.5) ? "any" : "all"): [\(children.joined(separator: ", "))] }"
        }
        for t in 0..<rng.int(1...maxTools) {
            if clusters > 0 {
                let cluster = rng.int(0..<clusters)
                pool = inst.scopes.indices.filter { $0 % clusters == cluster }.map { inst.scopes[$0].name }
                if pool.isEmpty { pool = inst.scopes.map(\.name) }
            }
            var actions: [(String, String)] = []
            if rng.chance(0.3) { actions = (0..<rng.int(1...2)).map { ("act\($0)", expr(0)) } }
            inst.tools.append(("t\(t)", actions.isEmpty || rng.chance(0.5) ? expr(0) : nil, actions))
        }
        return inst
    }

    /// YAML with declarations in the given orders.
    func yaml(scopeOrder: [Int]? = nil, toolOrder: [Int]? = nil) -> String {
        var entries: [String] = scopes.map { s in
            "  \(s.name): { risk: \(s.risk.rawValue)"
                + (s.implies.isEmpty ? "" : ", implies: [\(s.implies.joined(separator: ", "))]") + " }"
        }
        entries += wildcards.map { "  \"\($0.name)\": { risk: \($0.risk.rawValue) }" }
        var out =
            "version: 1\nscopes:\n" + (scopeOrder ?? Array(entries.indices)).map { entries[$0] }.joined(separator: "\n")
            + "\ntools:\n"
        for i in toolOrder ?? Array(tools.indices) {
            let t = tools[i]
            out += "  \(t.name):\n"
            if let r = t.requires { out += "    requires: \(r)\n" }
            if !t.actions.isEmpty {
                out += "    actions:\n" + t.actions.map { "      \($0.0): { requires: \($0.1) }\n" }.joined()
            }
        }
        return out
    }
}

/// Exhaustive reference: every subset of the defined scopes; keep those satisfying every part; minimize
/// (cost, count, lexicographic names).
private struct Exhaustive {
    var best: [String]
    var cost: Int
    /// Satisfying sets of optimal cost with no member implied by another (the irredundant ones).
    var optimalIrredundant: [[String]]

    init(policy: CompiledPolicy) {
        let table = policy.scopes
        let n = table.count
        var closureMask = [UInt32](repeating: 0, count: n)
        var weight = [Int](repeating: 0, count: n)
        for id in 0..<n {
            for member in table.closure(ScopeID(id)).ids { closureMask[id] |= 1 << member }
            weight[id] = table.risk(of: ScopeID(id)).weight
        }
        var parts: [[UInt32]] = []
        for tool in policy.model.tools {
            var reqs: [Requirement] = []
            if let r = tool.requirement { reqs.append(r) }
            for a in tool.actions ?? [] { if let r = a.requirement { reqs.append(r) } }
            for r in reqs {
                parts.append(r.clauses.map { clause in clause.reduce(UInt32(0)) { $0 | (1 << (table.id($1) ?? 31)) } })
            }
        }
        let names = table.allNames
        func sortedNames(_ mask: UInt32) -> [String] {
            (0..<n).filter { mask & (1 << $0) != 0 }.map { names[$0] }.sorted {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            }
        }
        var bestKey: (Int, Int, [String])?
        var all: [(UInt32, Int)] = []
        for subset in 0..<(UInt32(1) << n) {
            var closure: UInt32 = 0
            for id in 0..<n where subset & (1 << id) != 0 { closure |= closureMask[id] }
            guard parts.allSatisfy({ part in part.contains { closure & $0 == $0 } }) else { continue }
            var cost = 0
            for id in 0..<n where closure & (1 << id) != 0 { cost += weight[id] }
            all.append((subset, cost))
            let key = (cost, subset.nonzeroBitCount, sortedNames(subset))
            if let b = bestKey {
                if key.0 < b.0
                    || (key.0 == b.0
                        && (key.1 < b.1
                            || (key.1 == b.1
                                && key.2.lexicographicallyPrecedes(b.2) { $0.utf8.lexicographicallyPrecedes($1.utf8) })))
                {
                    bestKey = key
                }
            } else {
                bestKey = key
            }
        }
        best = bestKey?.2 ?? []
        cost = bestKey?.0 ?? 0
        let optimalCost = cost
        optimalIrredundant = all.filter { subset, c in
            guard c == optimalCost else { return false }
            for a in 0..<n where subset & (1 << a) != 0 {
                for b in 0..<n where b != a && subset & (1 << b) != 0 && closureMask[b] & (1 << a) != 0 { return false }
            }
            return true
        }.map { sortedNames($0.0) }
    }
}

@Suite("Least privilege")
struct LeastPrivilegeTests {
    @Test func solverEqualsExhaustiveSearchOnRandomInstances() throws {
        var rng = SeededRNG(seed: 0x5C09E_6A7E)
        var checked = 0
        var withAlternatives = 0
        for round in 0..<2_100 {
            let inst = SolverInstance.random(&rng, maxScopes: round % 20 == 0 ? 16 : 11)
            let policy = try compileSource(inst.yaml())
            #expect(policy.scopes.count <= 16)
            let selections = policy.model.tools.map { ToolSelection(tool: $0.pattern) }
            let result = try LeastPrivilegeSolver(policy: policy).minimal(for: selections)
            let reference = Exhaustive(policy: policy)
            #expect(result.optimal, "round \(round)")
            #expect(result.scopes == reference.best, "round \(round):\n\(inst.yaml())")
            #expect(result.cost == reference.cost, "round \(round)")
            // Alternatives: distinct optimal-cost irredundant sets, each satisfying; all of them when ≤ 10.
            let expectedAlternatives = Set(reference.optimalIrredundant).subtracting([reference.best])
            #expect(Set(result.alternatives).isSubset(of: expectedAlternatives), "round \(round)")
            #expect(result.alternatives.count == min(10, expectedAlternatives.count), "round \(round):\n\(inst.yaml())")
            if !result.alternatives.isEmpty { withAlternatives += 1 }
            checked += 1
        }
        #expect(checked >= 2_000)
        #expect(withAlternatives > 20)  // the generator really produces ties
    }

    @Test func sameAnswerAcrossRunsAndPermutations() throws {
        var rng = SeededRNG(seed: 77)
        for round in 0..<200 {
            let inst = SolverInstance.random(&rng, maxScopes: 10)
            let base = try compileSource(inst.yaml())
            let selections = base.model.tools.map { ToolSelection(tool: $0.pattern) }
            let first = try LeastPrivilegeSolver(policy: base).minimal(for: selections)
            let again = try LeastPrivilegeSolver(policy: base).minimal(for: selections)
            #expect(first == again)
            let scopeOrder = Array(0..<(inst.scopes.count + inst.wildcards.count)).shuffled(using: &rng)
            let toolOrder = Array(inst.tools.indices).shuffled(using: &rng)
            let permuted = try compileSource(inst.yaml(scopeOrder: scopeOrder, toolOrder: toolOrder))
            let shuffled = selections.shuffled(using: &rng)
            let other = try LeastPrivilegeSolver(policy: permuted).minimal(for: shuffled)
            #expect(other.scopes == first.scopes, "round \(round)")
            #expect(other.cost == first.cost)
            #expect(other.alternatives == first.alternatives, "round \(round)")
            #expect(other.optimal == first.optimal)
            // `neededBy` picks each part's satisfied clause by cost and names, not by declaration order.
            #expect(other == first, "round \(round):\n\(inst.yaml())")
        }
    }

    /// The decomposed solver (forced clauses, dominance, components, bounds) against the single undecomposed branch and
    /// bound (`solveUndecomposed`), on instances with more scopes and tools than the exhaustive reference can enumerate.
    @Test func decompositionEqualsUndecomposedSearchOnRandomInstances() throws {
        var rng = SeededRNG(seed: 0xDEC0_4205)
        var compared = 0
        var multiComponent = 0
        for round in 0..<1_000 {
            let inst = SolverInstance.random(
                &rng, maxScopes: 12 + round % 28, maxTools: 6 + round % 12,
                impliesChance: round % 2 == 0 ? 0.05 : 0.15, clusters: round % 3 == 0 ? 0 : 2 + round % 4)
            let policy = try compileSource(inst.yaml())
            let solver = LeastPrivilegeSolver(policy: policy)
            let (parts, _) = try solver.parts(for: policy.model.tools.map { ToolSelection(tool: $0.pattern) })
            let reference = solver.solveUndecomposed(parts: parts)
            let (result, components) = solver.solveDecomposed(parts: parts)
            #expect(result.optimal, "round \(round)")
            if components > 1 { multiComponent += 1 }
            guard reference.optimal else { continue }
            #expect(result.scopes == reference.scopes, "round \(round):\n\(inst.yaml())")
            #expect(result.cost == reference.cost, "round \(round)")
            #expect(result.lowerBound == reference.lowerBound, "round \(round)")
            #expect(result.alternatives == reference.alternatives, "round \(round):\n\(inst.yaml())")
            #expect(result.neededBy == reference.neededBy, "round \(round)")
            compared += 1
        }
        #expect(compared >= 900)
        #expect(multiComponent > 20, "\(multiComponent) instances split into several components")
    }

    /// Independent tools with ties: alternatives are the best combinations of each component's options, in order;
    /// a chosen scope that implies a forced one makes it redundant, which wins on count.
    @Test func alternativesCombineIndependentComponents() throws {
        let policy = try compileSource(
            """
            version: 1
            scopes:
              x:a: {}
              x:b: {}
              x:c: {}
              y:a: {}
              y:b: {}
              z:r: { risk: low }
              z:w: { implies: [z:r] }
            tools:
              one: { any: [x:b, x:a] }
              two: { any: [y:b, y:a] }
              read: z:r
              write: { any: [x:c, z:w] }
            """)
        let r = try LeastPrivilegeSolver(policy: policy).minimal(
            for: policy.model.tools.map { ToolSelection(tool: $0.pattern) })
        #expect(r.optimal)
        #expect(r.scopes == ["x:a", "y:a", "z:w"])
        #expect(r.cost == 7)
        #expect(
            r.alternatives == [
                ["x:a", "y:b", "z:w"], ["x:b", "y:a", "z:w"], ["x:b", "y:b", "z:w"],
                ["x:a", "x:c", "y:a", "z:r"], ["x:a", "x:c", "y:b", "z:r"],
                ["x:b", "x:c", "y:a", "z:r"], ["x:b", "x:c", "y:b", "z:r"],
            ])
        #expect(r.neededBy["z:w"] == ["read", "write"])
        #expect(r.neededBy["x:a"] == ["one"])
    }

    /// With a tiny budget the answer is greedy, flagged, and its bound is admissible; it still satisfies every part.
    @Test func budgetFallbackIsFlaggedWithAnAdmissibleBound() throws {
        var rng = SeededRNG(seed: 4242)
        var flagged = 0
        for round in 0..<150 {
            let inst = SolverInstance.random(&rng, maxScopes: 30, maxTools: 12, impliesChance: 0.05)
            let policy = try compileSource(inst.yaml())
            let selections = policy.model.tools.map { ToolSelection(tool: $0.pattern) }
            var solver = LeastPrivilegeSolver(policy: policy)
            let exact = try solver.minimal(for: selections)
            solver.nodeBudget = 1
            let quick = try solver.minimal(for: selections)
            #expect(solver.satisfies(names: quick.scopes, selections), "round \(round)")
            #expect(quick.lowerBound <= exact.cost && exact.cost <= quick.cost, "round \(round)")
            if quick.optimal {
                #expect(quick.scopes == exact.scopes && quick.alternatives == exact.alternatives, "round \(round)")
            } else {
                flagged += 1
                #expect(quick.alternatives.isEmpty)
            }
        }
        #expect(flagged > 0)
    }

    /// A client of the synthetic policy (the benchmark's shape, smaller): proven optimal, and equal to the
    /// undecomposed search wherever that one finishes.
    @Test func syntheticClientIsProvenOptimal() throws {
        let source = SyntheticPolicy.generate(tools: 1_000, scopes: 600, seed: 42)
        let policy = try PolicyCompiler().compile(source: source, name: "synthetic.yaml").compiled()
        let solver = LeastPrivilegeSolver(policy: policy)
        for count in [20, 60] {
            let names = SyntheticPolicy.toolNames(tools: 1_000, scopes: 600, seed: 42, count: count)
            let (parts, _) = try solver.parts(for: names.map { ToolSelection(tool: $0) })
            let result = solver.solve(parts: parts)
            #expect(result.optimal, "\(count) tools")
            #expect(solver.satisfies(names: result.scopes, names.map { ToolSelection(tool: $0) }))
            let reference = solver.solveUndecomposed(parts: parts)
            if reference.optimal {
                #expect(result.scopes == reference.scopes && result.cost == reference.cost, "\(count) tools")
            } else {
                #expect(result.cost <= reference.cost && result.cost >= reference.lowerBound, "\(count) tools")
            }
        }
    }

    @Test func equalCostAlternativesAreReported() throws {
        let policy = try compileSource(
            """
            version: 1
            scopes:
              x:a: {}
              x:b: {}
              x:c: { risk: low }
              x:d: { risk: low }
            tools:
              t: { any: [x:b, x:a, { all: [x:c, x:d] }] }
            """)
        let r = try LeastPrivilegeSolver(policy: policy).minimal(for: [ToolSelection(tool: "t")])
        #expect(r.cost == 2)
        #expect(r.scopes == ["x:a"])
        #expect(r.alternatives == [["x:b"], ["x:c", "x:d"]])
    }

    @Test func examplePoliciesClientsAreLeastPrivilege() throws {
        let github = try lpPolicy("policies/github.yaml")
        let solver = LeastPrivilegeSolver(policy: github)
        for client in github.model.clients {
            let r = try solver.minimal(for: client.tools.map { ToolSelection(tool: $0.tool, actions: $0.actions) })
            #expect(
                r.scopes == (client.scopes ?? []).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) },
                "\(client.name)")
        }
    }
}

@Suite("Usage analysis (suggest)")
struct UsageAnalysisTests {
    func event(_ client: String?, allowed: Bool, required: [String], granted: [String], tool: String = "t") -> String {
        AuditEvent(
            time: Date(timeIntervalSince1970: 0), clientID: client, subject: nil, tokenID: nil, method: "tools/call",
            tool: tool, action: nil, arguments: ["secret": .string("[redacted]")], granted: granted, allowed: allowed,
            reason: allowed ? "allowed" : "missing_scope", required: required, missing: [], rule: nil,
            policyVersion: "x-1"
        ).json
    }

    @Test func aggregatesDistinctClausesPerClient() {
        var agg = UsageAggregator()
        let lines = [
            event("bot", allowed: true, required: ["read:files"], granted: ["read:files", "admin:system"]),
            event("bot", allowed: true, required: ["read:files"], granted: ["admin:system", "read:files"]),
            event("bot", allowed: false, required: ["admin:system"], granted: ["write:files"]),
            event(
                "crm", allowed: true, required: ["mcp:data:client-info:read"], granted: ["mcp:data:client-info:write"]),
            event(nil, allowed: true, required: [], granted: []),
        ]
        for (i, line) in lines.enumerated() { #expect(agg.add(line: line, number: i + 1) == nil) }
        let usage = agg.usage
        #expect(usage.map(\.clientID) == ["bot", "crm", nil])
        #expect(usage[0].events == 3 && usage[0].allowed == 2)
        #expect(usage[0].requiredClauses == [["read:files"]])  // denied calls do not count
        #expect(usage[0].granted == ["admin:system", "read:files", "write:files"])
        #expect(usage[2].requiredClauses.isEmpty)
    }

    /// A call denied in shadow mode went through: its requirement is usage; an enforced denial is not.
    @Test func wouldDenyEventsCountAsUsage() {
        var agg = UsageAggregator()
        let denied = event("bot", allowed: false, required: ["admin:system"], granted: ["read:files"])
        let shadowed =
            event("bot", allowed: false, required: ["write:files"], granted: ["read:files"]).dropLast()
            + ",\"would_deny\":true}"
        let notShadowed =
            event("bot", allowed: false, required: ["admin:org"], granted: ["read:files"]).dropLast()
            + ",\"would_deny\":false}"
        for (i, line) in [denied, String(shadowed), String(notShadowed)].enumerated() {
            #expect(agg.add(line: line, number: i + 1) == nil)
        }
        #expect(agg.usage.first?.events == 3)
        #expect(agg.usage.first?.allowed == 1)
        #expect(agg.usage.first?.requiredClauses == [["write:files"]])
    }

    @Test func malformedLinesAreReportedAndTheRestProcessed() {
        var agg = UsageAggregator()
        let good = event("bot", allowed: true, required: ["read:files"], granted: ["read:files"])
        let bad = [
            "{\"v\":1,\"client_id\":\"bot\"",  // truncated
            "not json",
            "[1,2]",
            good.replacingOccurrences(of: "\"allowed\":true", with: "\"allowed\":\"yes\""),
            good.replacingOccurrences(of: "\"v\":1", with: "\"v\":2"),
            good.replacingOccurrences(of: "\"required\":[\"read:files\"]", with: "\"required\":[1]"),
            good + " x",
            good.replacingOccurrences(of: ",\"granted\":[\"read:files\"]", with: ""),
            "{\"v\":1,\"v\":1,\"client_id\":null,\"allowed\":true,\"required\":[],\"granted\":[]}",
        ]
        var errors: [UsageLineError] = []
        var n = 0
        for line in [good] + bad + ["", good] {
            n += 1
            if let e = agg.add(line: line, number: n) { errors.append(e) }
        }
        #expect(errors.map(\.line) == Array(2...10))
        #expect(errors[0].message.contains("unexpected end of line"))
        #expect(errors[4].message.contains("version"))
        #expect(errors[7].message.contains("missing \"granted\""))
        #expect(errors[8].message.contains("duplicate key"))
        #expect(agg.malformed == 9)
        #expect(agg.usage.first?.events == 2)
    }

    @Test func escapedStringsAndCachesAgree() {
        var agg = UsageAggregator()
        agg.add(
            line: #"{"v":1,"client_id":"b\u006ft","allowed":true,"required":["read:files"],"granted":["read:files"]}"#,
            number: 1)
        agg.add(
            line: #"{"v":1,"client_id":"bot","allowed":true,"required":["re\u0061d:files"],"granted":["read:files"]}"#,
            number: 2)
        let usage = agg.usage
        #expect(usage.count == 1)
        #expect(usage[0].events == 2)
        #expect(usage[0].requiredClauses == [["read:files"]])
    }

    @Test func readsAFileDescriptorInChunksWithLongLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sg-usage-\(UUID().uuidString).jsonl")
        var text = ""
        for i in 0..<5_000 {
            text +=
                event("c\(i % 3)", allowed: i % 4 != 0, required: ["s\(i % 7)"], granted: ["s\(i % 7)", "extra"]) + "\n"
        }
        text += String(repeating: "x", count: 2_000) + "\n"
        text += event("c0", allowed: true, required: ["last"], granted: [])  // no final newline
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        var agg = UsageAggregator()
        agg.maxLineBytes = 1_000
        let fd = open(url.path, O_RDONLY)
        defer { close(fd) }
        var errors: [UsageLineError] = []
        #expect(agg.consume(fileDescriptor: fd) { errors.append($0) })
        #expect(errors.map(\.line) == [5_001])
        #expect(agg.lines == 5_002)
        let c0 = try #require(agg.usage.first { $0.clientID == "c0" })
        #expect(c0.requiredClauses.contains(["last"]))
        #expect(c0.granted == ["extra"] + (0..<7).map { "s\($0)" })
    }

    @Test func suggestionFromClimateLog() throws {
        let policy = try lpPolicy("policies/climate.yaml")
        var agg = UsageAggregator(clientFilter: "climate-bot")
        let granted = ["mcp:tools:climate", "read:files", "admin:system", "mcp:data:client-info:read", "nonsense"]
        agg.add(line: event("climate-bot", allowed: true, required: ["mcp:tools:climate"], granted: granted), number: 1)
        agg.add(line: event("climate-bot", allowed: true, required: ["read:files"], granted: granted), number: 2)
        agg.add(
            line: event(
                "climate-bot", allowed: true, required: ["mcp:operations:automation:workflows:view"], granted: granted),
            number: 3)
        agg.add(line: event("other", allowed: true, required: ["admin:system"], granted: ["admin:system"]), number: 4)
        let usage = agg.usage
        #expect(usage.count == 1)
        let s = LeastPrivilegeSolver(policy: policy).suggest(for: usage[0])
        #expect(
            s.leastPrivilege.scopes == ["mcp:operations:automation:workflows:view", "mcp:tools:climate", "read:files"])
        #expect(s.leastPrivilege.optimal)
        // admin:system's closure contains read:files, so it is not "unused"; client-info:read is.
        #expect(s.unused == ["mcp:data:client-info:read"])
        #expect(s.unknownGranted == ["nonsense"])
        #expect(s.grantedCost > s.leastPrivilege.cost)
    }

    @Test func entraPrefixesAreStrippedForUnusedAccess() throws {
        let policy = try lpPolicy("policies/entra.yaml")
        let usage = ClientUsage(
            clientID: "x", events: 1, allowed: 1, requiredClauses: [["Files.Read"]],
            granted: ["api://mcp-server/Files.Read", "api://mcp-server/Mail.Send"])
        let s = LeastPrivilegeSolver(policy: policy).suggest(for: usage)
        #expect(s.unused == ["api://mcp-server/Mail.Send"])
        #expect(s.unknownGranted.isEmpty)
        #expect(s.leastPrivilege.scopes == ["Files.Read"])
    }
}

@Suite("Policy diff")
struct PolicyDiffTests {
    let base = """
        version: 1
        scopes:
          read: {}
          write: { implies: [read] }
          admin: { risk: admin, implies: [write] }
        tools:
          list: read
          edit: write
          purge: admin
          info: { public: true }
        clients:
          viewer: { tools: [list], scopes: [read] }
        """

    @Test func identicalPoliciesHaveNoChanges() throws {
        let d = PolicyDiff(old: try compileSource(base), new: try compileSource(base))
        #expect(!d.hasChanges)
        #expect(d.escalations.isEmpty)
    }

    @Test func loweredRequirementIsAnEscalation() throws {
        let changed = base.replacingOccurrences(of: "purge: admin", with: "purge: write")
        let d = PolicyDiff(old: try compileSource(base), new: try compileSource(changed))
        #expect(d.rules.map(\.name) == ["purge"])
        #expect(d.rules.first?.oldCost == 20 && d.rules.first?.newCost == 4)
        let kinds = Set(d.escalations.map(\.kind))
        #expect(kinds.contains("less-privilege"))
        #expect(
            d.escalations.contains { $0.kind == "scope-reach" && $0.subject == "scope write" && $0.rule == "purge" })
        #expect(!d.escalations.contains { $0.subject == "scope admin" })
        // The reverse change only removes reach: a change, never an escalation.
        let back = PolicyDiff(old: try compileSource(changed), new: try compileSource(base))
        #expect(back.hasChanges)
        #expect(back.escalations.isEmpty)
        #expect(back.scopes.contains { $0.subject == "scope write" && $0.lost == ["purge"] })
    }

    @Test func widerImplicationReachesMoreAndClientsFollow() throws {
        let changed = base.replacingOccurrences(of: "read: {}", with: "read: { implies: [write] }")
            .replacingOccurrences(of: "write: { implies: [read] }", with: "write: {}")
        let d = PolicyDiff(old: try compileSource(base), new: try compileSource(changed))
        #expect(d.scopeDefinitions.contains { $0.contains("scope `read`") })
        #expect(d.escalations.contains { $0.kind == "scope-reach" && $0.subject == "scope read" && $0.rule == "edit" })
        #expect(
            d.escalations.contains { $0.kind == "client-reach" && $0.subject == "client viewer" && $0.rule == "edit" })
    }

    @Test func publicAndRiskChanges() throws {
        let text = base.replacingOccurrences(of: "edit: write", with: "edit: { public: true }")
            .replacingOccurrences(
                of: "admin: { risk: admin, implies: [write] }", with: "admin: { risk: low, implies: [write] }"
            )
            .replacingOccurrences(
                of: "  info: { public: true }\n", with: "  info: { public: true }\n  debug: { public: true }\n")
        let d = PolicyDiff(old: try compileSource(base), new: try compileSource(text))
        let kinds = d.escalations.map(\.kind)
        #expect(kinds.contains("now-public"))
        #expect(kinds.contains("new-public"))
        #expect(d.escalations.contains { $0.kind == "less-privilege" && $0.rule == "purge" })
        #expect(d.rules.contains { $0.name == "debug" && $0.kind == .added })
    }
}

@Suite("Scope graph")
struct ScopeGraphTests {
    @Test func dotHasImpliesWildcardRiskAndTools() throws {
        let policy = try lpPolicy("policies/climate.yaml")
        let dot = ScopeGraph(policy: policy, tools: true).render(.dot)
        #expect(dot.hasPrefix("digraph scopes {"))
        #expect(dot.contains("\"scope:write:files\" -> \"scope:read:files\" [label=\"implies\"];"))
        #expect(
            dot.contains(
                "\"scope:mcp:operations:automation:*\" -> \"scope:mcp:operations:automation:workflows:run\" [style=dashed"
            ))
        #expect(dot.contains("\"scope:admin:system\" [label=\"admin:system\\nadmin\", fillcolor=\"#f8d7da\""))
        #expect(dot.contains("\"scope:read:files\" -> \"tool:file_manager\"") == false)  // all actions: admin:system
        #expect(dot.contains("\"scope:admin:system\" -> \"tool:file_manager\""))
        #expect(dot.contains("\"scope:mcp:tools:climate\" -> \"tool:get_forecast\""))
        #expect(dot.contains("health_check (public)"))
        #expect(dot.hasSuffix("}\n"))
        let plain = ScopeGraph(policy: policy).render(.dot)
        #expect(!plain.contains("tool:"))
    }

    @Test func mermaidHasClassesAndDashedCoverage() throws {
        let policy = try lpPolicy("policies/files.yaml")
        let m = ScopeGraph(policy: policy, tools: true).render(.mermaid)
        #expect(m.hasPrefix("flowchart LR\n"))
        #expect(m.contains("s1 -->|implies| s0"))
        #expect(m.contains("classDef admin"))
        #expect(m.contains("class s2 admin"))
        #expect(m.contains("s0 --> t0"))  // read:files unlocks list_directory
        let climate = ScopeGraph(policy: try lpPolicy("policies/climate.yaml")).render(.mermaid)
        #expect(climate.contains("-.->|covers|"))
    }
}

@Suite("Policy tests")
struct PolicyTestsTests {
    @Test func examplePolicyTestFilesPass() throws {
        for name in ["climate", "files", "github", "entra"] {
            let policy = try lpPolicy("policies/\(name).yaml")
            let file = try PolicyTestParser.load(
                path: lpRepoRoot.appendingPathComponent("policies/tests/\(name).tests.yaml").path)
            #expect(file.cases.count >= 20, "\(name)")
            var runner = PolicyTestRunner(policy: policy)
            for r in runner.run(file) { #expect(r.passed, "\(name): \(r.testCase.name): \(r.failures)") }
            #expect(runner.coverage.percent >= 80, "\(name): \(runner.coverage.percent)")
        }
    }

    @Test func failuresShowExpectedAndActual() throws {
        let policy = try lpPolicy("policies/files.yaml")
        let file = try PolicyTestParser.parse(
            source: """
                - name: wrong
                  scopes: [read:files]
                  tool: set_quota
                  expect: { allowed: true, reason: allowed, missing: [], minimal: [read:files] }
                """, path: "t.yaml")
        var runner = PolicyTestRunner(policy: policy)
        let r = runner.run(file)[0]
        #expect(!r.passed)
        #expect(r.failures.contains("allowed: expected true, got false (missing_scope; missing: admin:system)"))
        #expect(r.failures.contains("reason: expected allowed, got missing_scope"))
        #expect(r.failures.contains("missing: expected [], got [admin:system]"))
        #expect(r.failures.contains("minimal: expected [read:files], got [admin:system]"))
    }

    @Test func badFilesReportFileLineColumn() {
        do {
            _ = try PolicyTestParser.parse(
                source: """
                    cases:
                      - name: typo
                        scopes: [a]
                        tool: t
                        expcet: { allowed: true }
                    """, path: "bad.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(
                error.description.contains(
                    "bad.yaml:5:5: error: unknown key `expcet` in a test case; did you mean `expect`?"))
        }
        do {
            _ = try PolicyTestParser.parse(source: "- name: x\n  scopes: [a\n", path: "syntax.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.first?.location.file == "syntax.yaml")
            #expect(error.description.contains("syntax.yaml:"))
        }
        do {
            _ = try PolicyTestParser.parse(
                source: "- name: x\n  scopes: []\n  tool: t\n  expect: { allowed: yes please, reason: denied }\n",
                path: "v.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 2)
            #expect(error.description.contains("unknown reason `denied`"))
        }
    }

    @Test func coverageListsWhatNoCaseExercised() throws {
        let policy = try lpPolicy("policies/files.yaml")
        let file = try PolicyTestParser.parse(
            source: """
                - name: read
                  scopes: [read:files]
                  tool: file_manager
                  action: read
                  expect: { allowed: true }
                """, path: "t.yaml")
        var runner = PolicyTestRunner(policy: policy)
        _ = runner.run(file)
        let cov = runner.coverage
        let covered = cov.items.filter(\.covered).map(\.label)
        #expect(covered.contains("file_manager"))
        #expect(covered.contains("file_manager.read"))
        #expect(covered.contains("file_manager.read: read:files"))
        #expect(!covered.contains("file_manager.delete"))
        #expect(
            cov.items.contains {
                $0.kind == "when" && $0.label.hasPrefix("file_manager.write when path glob") && !$0.covered
            })
        #expect(cov.count("tool").0 == 1)
        #expect(cov.percent < 20)
    }
}
