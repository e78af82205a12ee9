import Foundation
import ScopeGate
import ScopeGateTesting
import Testing

@testable import scopegate

/// `check --batch`'s byte path (``BatchGrant`` resolving each line's scopes from its bytes, ``BatchRecordWriter``
/// rendering the record from the decision) against the reference path (``Grant``, ``DecisionRecord``,
/// ``JSONParser``) on a generated policy with hundreds of scopes: implication chains, wildcards, a scope with
/// uppercase letters (case hints), `any`/`all` requirements whose denials run the completion search, actions,
/// conditions and a resource id (the challenge's `resource_metadata`). Every line carries its own grant, mixing
/// defined, unknown, case-variant, wildcard, invalid, repeated and non-ASCII strings.
@Suite("batch record writer")
struct BatchRecordWriterTests {
    typealias Random = BatchReaderTests.Random

    struct Fixture {
        let policy: CompiledPolicy
        let scopes: [String]
        let tools: [String]
    }

    static let fixture: Fixture? = {
        var r = Random(seed: 0xBA7C4)
        var lines = [
            "version: 1", "resource:", "  id: https://mcp.example.com/api", "", "scopes:",
            #"  "Repo:Admin": {risk: admin}"#,
        ]
        var scopes = ["Repo:Admin"]
        for s in 0..<4 {
            lines.append(#"  "svc\#(s):*": {risk: normal}"#)
            for a in 0..<4 {
                var admins: [String] = []
                for k in 0..<5 {
                    let base = "svc\(s):area\(a):res\(k)"
                    lines.append(#"  "\#(base):read": {risk: low}"#)
                    lines.append(#"  "\#(base):write": {risk: normal, implies: ["\#(base):read"]}"#)
                    lines.append(#"  "\#(base):admin": {risk: admin, implies: ["\#(base):write"]}"#)
                    scopes += ["\(base):read", "\(base):write", "\(base):admin"]
                    admins.append(#""\#(base):admin""#)
                }
                let manage = "svc\(s):area\(a):manage"
                lines.append(#"  "\#(manage)": {risk: admin, implies: [\#(admins.joined(separator: ", "))]}"#)
                scopes.append(manage)
            }
        }
        let concrete = scopes.filter { !$0.hasSuffix(":*") }
        func pick() -> String { "\"" + r.pick(concrete) + "\"" }
        lines += ["", "tools:"]
        var tools: [String] = []
        for t in 0..<300 {
            let name = "tool_\(t)"
            tools.append(name)
            switch t % 7 {
            case 0: lines.append("  \(name): {requires: \(pick())}")
            case 1: lines.append("  \(name): {requires: {all: [\(pick()), \(pick())]}}")
            case 2: lines.append("  \(name): {requires: {any: [\(pick()), {all: [\(pick()), \(pick())]}]}}")
            case 3: lines.append("  \(name): {requires: {any: [\(pick()), \(pick()), \(pick())]}}")
            case 4:
                lines.append("  \(name):")
                lines.append("    requires: \(pick())")
                lines.append("    when:")
                lines.append("      - arguments: { amount: { gt: 100 } }")
                lines.append("        requires: {any: [\(pick()), \(pick())]}")
            case 5:
                lines.append("  \(name):")
                lines.append("    action_argument: action")
                lines.append("    actions:")
                lines.append("      read: \(pick())")
                lines.append("      write: {requires: {all: [\(pick()), \(pick())]}}")
            default: lines.append("  \(name): {public: true}")
            }
        }
        lines.append(#"  "glob_*": {requires: {any: ["Repo:Admin", \#(pick())]}}"#)
        tools += ["glob_x", "nope"]
        let text = lines.joined(separator: "\n") + "\n"
        guard
            let model = PolicyCompiler(options: LoadOptions(environment: [:])).compile(
                source: text, name: "generated.yaml"
            ).model
        else { return nil }
        return Fixture(policy: CompiledPolicy(model: model), scopes: scopes, tools: tools)
    }()

    static func grant(_ r: inout Random, _ f: Fixture) -> [String] {
        (0..<r.below(11)).map { _ in
            switch r.below(20) {
            case 0: return "unknown:scope\(r.below(30))"
            case 1: return r.pick(["svc1:*", "svc2:*", "*", "repo:admin", "REPO:ADMIN", "svc0:AREA1:res2:read"])
            case 2: return r.pick(["a::b", ":", "x y", "caf\u{e9}:read", "", "repo:*"])
            default: return r.pick(f.scopes)
            }
        }
    }

    static func line(_ r: inout Random, _ f: Fixture, number: Int) -> String {
        let scopes = grant(&r, f)
        let encoded =
            r.below(2) == 0
            ? JSONText.quote(scopes.filter { !$0.contains(" ") }.joined(separator: r.pick([" ", "  "])))
            : JSONText.array(scopes)
        var members = [#""tool":"# + JSONText.quote(r.pick(f.tools)), #""scopes":"# + encoded]
        if r.below(2) == 0 { members.append(#""id":"# + (r.below(2) == 0 ? "\(number)" : #""r\#(number)""#)) }
        switch r.below(4) {
        case 0: members.append(#""arguments":{"amount":\#(r.below(300))}"#)
        case 1: members.append(#""arguments":{"amount":"big","action":"\#(r.pick(["read", "write", "x"]))"}"#)
        case 2: members.append(#""arguments":{"action":"\#(r.pick(["read", "write"]))"}"#)
        default: break
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    @Test func bytePathMatchesTheReferenceOnGeneratedGrants() throws {
        let f = try #require(Self.fixture)
        var fast = BatchProcessor(policy: f.policy, policyVersion: "v", audit: false)
        var reference = BatchProcessor(policy: f.policy, policyVersion: "v", audit: false)
        var r = Random(seed: 0x6A27)
        var denials = 0
        var hints = 0
        for n in 1...20_000 {
            let bytes = Array(Self.line(&r, f, number: n).utf8)
            var out: [UInt8] = []
            var audit: [UInt8] = []
            let ok = bytes.withUnsafeBufferPointer { fast.process($0, lineNumber: n, output: &out, audit: &audit) }
            let expected = bytes.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: n) }
            let text = String(decoding: out, as: UTF8.self)
            #expect(text == expected.output + "\n", "line \(n): \(String(decoding: bytes, as: UTF8.self))")
            #expect(ok && expected.ok)
            if text.contains(#""reason":"missing_scope""#) { denials += 1 }
            if text.contains(#""hint":"#) { hints += 1 }
        }
        // The generator must reach denials (with their completions and challenges) and hints, not only allows.
        #expect(denials > 5_000, "\(denials) denials")
        #expect(hints > 100, "\(hints) case hints")
    }
}
