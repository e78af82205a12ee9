import Foundation

@testable import ScopeGate

// Target `policy`: YAML bytes → loader + every compiler pass → (if it compiled) grant + decide + record.
// Invariants checked on every compiled policy (each a trap, so libFuzzer keeps the input):
//  - monotonicity: a call allowed with some grant is allowed with every scope granted;
//  - completion: on `missing_scope`, granting `missing` in addition makes the call allowed;
//  - deny by default: with no tool globs, an unknown tool is never allowed.

private let compiler = PolicyCompiler(options: LoadOptions(environment: [:]))
// A root path in a directory that does not exist, so relative includes fail instead of reading the disk.
private let rootName = "/nonexistent-scopegate-fuzz/policy.yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func policyFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let result = compiler.compile(source: text, name: rootName)
    let renderer = DiagnosticRenderer(sources: result.sources)
    _ = renderer.human(result.diagnostics)
    _ = renderer.json(result.diagnostics)
    guard let model = result.model else { return 0 }
    let policy = CompiledPolicy(model: model)
    let all = model.scopes.map(\.name)
    let grants = [
        policy.grant([]), policy.grant(Array(all.prefix(all.count / 2))), policy.grant(["*", "nope:x", ""]),
        policy.grant(scopeString: all.suffix(2).joined(separator: " ")),
    ]
    let full = policy.grant(all)
    var calls: [Call] = [.tool("\u{0}no-such-tool\u{0}"), Call(method: "initialize"), Call(method: "bogus/x")]
    for tool in model.tools.prefix(8) {
        let name = tool.pattern.replacingOccurrences(of: "*", with: "x")
        var arguments: [String: JSONValue] = ["amount": .number(1001), "path": .string("/tmp/a")]
        calls.append(.tool(name, arguments: arguments))
        for action in tool.actions?.prefix(3) ?? [] {
            arguments[tool.actionArgument ?? "action"] = .string(action.name)
            calls.append(.tool(name, arguments: arguments))
        }
    }
    for rule in model.resources.prefix(3) { calls.append(Call(method: "resources/read", name: rule.pattern)) }
    for rule in model.prompts.prefix(3) { calls.append(Call(method: "prompts/get", name: rule.pattern)) }
    for rule in model.methods.prefix(3) { calls.append(Call(method: rule.pattern)) }
    for call in calls {
        let withAll = policy.decide(call, grant: full)
        for grant in grants {
            let decision = policy.decide(call, grant: grant)
            _ = policy.record(for: decision, call: call, grant: grant, line: 1, id: "1").json
            if decision.allowed {
                Fuzz.check(withAll.allowed, "allowed with \(grant.granted) but denied with every scope: \(call)")
            }
            if decision.reason == .missingScope {
                let completed = policy.grant(grant.granted + policy.names(decision.missing))
                Fuzz.check(
                    policy.decide(call, grant: completed).allowed,
                    "granting missing \(policy.names(decision.missing)) to \(grant.granted) still denies \(call)")
            }
        }
        if call.name.hasPrefix("\u{0}no-such-tool"), !model.tools.contains(where: \.isGlob) {
            Fuzz.check(!withAll.allowed, "an unknown tool was allowed")
        }
    }
    return 0
}
