import ScopeGateTesting
import Testing

@testable import ScopeGate

/// `ToolsPass.normalize` (sorted arrays and merge walks) against a plain `Set`-based reference.
@Suite struct NormalizeTests {
    /// The reference: the same normalization with `Set`s, written for clarity rather than speed.
    static func reference(_ clauses: [[String]]) -> [[String]] {
        if clauses.count == 1, clauses[0].count <= 1 { return clauses }
        let sortedClauses = Set(clauses.map { Array(Set($0)).sorted() }).sorted { a, b in
            a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
        }
        var kept: [[String]] = []
        for clause in sortedClauses {
            let set = Set(clause)
            if !kept.contains(where: { Set($0).isSubset(of: set) }) { kept.append(clause) }
        }
        return kept
    }

    @Test func agreesWithTheSetBasedVersion() {
        var rng = SplitMix64(seed: 7)
        let names = ["a", "b", "c", "d", "e", "read:files", "write:files", "x:*"]
        var checked = 0
        for _ in 0..<20_000 {
            let clauseCount = Int.random(in: 1...6, using: &rng)
            let clauses: [[String]] = (0..<clauseCount).map { _ in
                // Empty clauses (from `all: []`), repeats inside a clause and across clauses are all generated.
                (0..<Int.random(in: 0...4, using: &rng)).map { _ in names[Int.random(in: 0..<names.count, using: &rng)]
                }
            }
            #expect(ToolsPass.normalize(clauses) == Self.reference(clauses), "\(clauses)")
            checked += 1
        }
        #expect(checked == 20_000)
    }

    @Test func dropsSupersetsAndDuplicates() {
        #expect(ToolsPass.normalize([["b", "a"], ["a"], ["a", "a"], ["c", "a", "b"]]) == [["a"]])
        #expect(ToolsPass.normalize([["b", "c"], ["a"], ["c", "b", "d"], ["c", "b"]]) == [["a"], ["b", "c"]])
        #expect(ToolsPass.normalize([["x"], [], ["y"]]) == [[]])
    }

    @Test func spaceOrControlCheckAgreesWithUnicodeProperties() {
        func reference(_ s: String) -> Bool {
            s.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        }
        var checked = 0
        for v in UInt32(0)...0x3100 {
            guard let scalar = Unicode.Scalar(v) else { continue }
            for name in ["\(scalar)", "tool_\(scalar)", "\(scalar)x", "é\(scalar)"] {
                #expect(ToolsPass.hasSpaceOrControl(name) == reference(name), "U+\(String(v, radix: 16))")
                checked += 1
            }
        }
        #expect(checked > 40_000)
        #expect(!ToolsPass.hasSpaceOrControl("files_*"))
        #expect(ToolsPass.hasSpaceOrControl("a\u{3000}b"))  // ideographic space
    }

    /// `dnf` as it was before its shortcuts for `any`/`all` lists of plain scopes (the general loops only).
    static func referenceDNF(_ e: RequirementExpression) -> [[String]]? {
        switch e {
        case .scope(let name, _): return [[name]]
        case .any(let items, _):
            var clauses: [[String]] = []
            for item in items {
                guard let sub = referenceDNF(item) else { return nil }
                clauses += sub
                if clauses.count > ToolsPass.maxClauses { return nil }
            }
            return ToolsPass.normalize(clauses)
        case .all(let items, _):
            var clauses: [[String]] = [[]]
            for item in items {
                guard let sub = referenceDNF(item) else { return nil }
                var next: [[String]] = []
                for a in clauses {
                    for b in sub {
                        next.append(a + b)
                        if next.count > ToolsPass.maxClauses { return nil }
                    }
                }
                clauses = ToolsPass.normalize(next)
            }
            return clauses
        }
    }

    @Test func dnfShortcutsAgreeWithTheGeneralLoops() {
        var rng = SplitMix64(seed: 13)
        let names = ["a", "b", "c", "d", "read:files", "write:files"]
        let here = SourceLocation(file: "t", line: 1, column: 1)
        func expression(_ depth: Int) -> RequirementExpression {
            let pick = Int.random(in: 0..<(depth > 2 ? 1 : 4), using: &rng)
            if pick <= 1 { return .scope(names[Int.random(in: 0..<names.count, using: &rng)], here) }
            let items = (0..<Int.random(in: 0...4, using: &rng)).map { _ in expression(depth + 1) }
            return pick == 2 ? .all(items, here) : .any(items, here)
        }
        for _ in 0..<20_000 {
            let e = expression(0)
            #expect(ToolsPass.dnf(e) == Self.referenceDNF(e), "\(e)")
        }
        // An `any` of more plain scopes than `maxClauses` is too large either way.
        let wide = RequirementExpression.any(Array(repeating: .scope("a", here), count: ToolsPass.maxClauses + 1), here)
        #expect(ToolsPass.dnf(wide) == nil && Self.referenceDNF(wide) == nil)
    }
}
