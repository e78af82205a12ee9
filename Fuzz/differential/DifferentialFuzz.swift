import Foundation

@testable import ScopeGate

// Target `differential` (structure-aware): the fuzzer's bytes drive the differential tests' policy generator
// (Tests/ScopeGateTests/PolicyGenerator.swift, shared with the tests; driven by a byte-replaying RNG) to make one small random policy, then a few grants
// and calls. Each call is decided by the compiled matcher and by the naive ReferenceEvaluator
// (Tests/ScopeGateTests/ReferenceEvaluator.swift, compiled in unchanged); any disagreement on allowed, reason or
// `missing` traps. The policy text itself is also compiled through the full YAML path, so this covers the
// loader on well-formed input too.

@_cdecl("LLVMFuzzerTestOneInput")
public func differentialFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var generator = PolicyGenerator(rng: FuzzRNG(Array(UnsafeBufferPointer(start: data, count: size))))
    let policy = generator.generate()
    guard
        let model = PolicyCompiler(options: LoadOptions(environment: [:])).compile(
            source: policy.yaml, name: "gen.yaml"
        ).model
    else {
        return 0
    }
    let compiled = CompiledPolicy(model: model)
    let reference = ReferenceEvaluator(model: model)
    for _ in 0..<16 {
        let call = generator.call(for: policy)
        let strings = generator.grant(for: policy)
        let actual = compiled.decide(call, grant: compiled.grant(strings))
        let expected = reference.decide(call, granted: strings)
        let actualMissing = compiled.names(actual.missing)
        Fuzz.check(
            actual.allowed == expected.allowed && actual.reason.rawValue == expected.reason
                && actualMissing == expected.missing,
            """
            compiled matcher and reference disagree
            --- policy ---
            \(policy.yaml)--- grant --- \(strings)
            --- call --- \(call.method) \(call.name) \(call.arguments.mapValues(\.jsonText))
            compiled:  allowed=\(actual.allowed) reason=\(actual.reason) missing=\(actualMissing)
            reference: \(expected)
            """)
    }
    return 0
}
