// Inputs shared by the ordo-one benchmarks (ScopeGateBenchmarks) and the instruction counter (InstructionCounts),
// so both measure the same workloads. Everything here is built once per process, outside every measurement.
import Foundation
import ScopeGate
import ScopeGateTesting

/// The seeded synthetic policy (10,000 tools, 5,000 scopes) and the samples, grants and logs built from it.
///
/// ```swift
/// let policy = Fixture.policy
/// let sample = Fixture.sample(.exactTool, allowed: true)
/// let decision = policy.decide(sample.call, grant: policy.grant(sample.granted))
/// ```
public enum Fixture {
    public static let seed: UInt64 = 42
    public static let toolCount = 10_000
    public static let scopeCount = 5_000
    public static let options = LoadOptions(environment: [:])

    public static let source = SyntheticPolicy.generate(tools: toolCount, scopes: scopeCount, seed: seed)
    public static let policy: CompiledPolicy = {
        do {
            return try compile()
        } catch {
            fatalError("the synthetic policy must compile: \(error)")  // benchmark setup, not a request path
        }
    }()

    /// Compiles ``source`` (the body of the compile rows).
    public static func compile() throws -> CompiledPolicy {
        try PolicyCompiler(options: options).compile(source: source, name: "synthetic.yaml").compiled()
    }

    public static let samples = SyntheticPolicy.sampleCalls(
        tools: toolCount, scopes: scopeCount, seed: seed, count: 64)

    public static let tenScopes = SyntheticPolicy.grantStrings(
        tools: toolCount, scopes: scopeCount, seed: seed, count: 10)

    /// The first of the 64 samples of `kind` built to be allowed (or denied): the hot single-sample rows.
    public static func sample(_ kind: SyntheticPolicy.SampleKind, allowed: Bool) -> SyntheticPolicy.Sample {
        guard let sample = samples.first(where: { $0.kind == kind && $0.expectAllowed == allowed }) else {
            fatalError("no \(kind) sample with allowed=\(allowed)")
        }
        return sample
    }

    /// `count` distinct exact tool names spread over the policy: a client's tool list for least privilege.
    public static func clientTools(_ count: Int) -> [ToolSelection] {
        SyntheticPolicy.toolNames(tools: toolCount, scopes: scopeCount, seed: seed, count: count).map {
            ToolSelection(tool: $0)
        }
    }

    /// An audit log (docs/records.md, "Audit event") of `auditLineCount` events from 20 clients on the synthetic
    /// policy, written once to a temporary file (opened, then unlinked, so nothing is left behind; each run rewinds
    /// the descriptor): the input of `scopegate suggest`. `required` is one of 400 policy scopes (so each client has
    /// a few dozen distinct requirements), `granted` adds one more; one event in ten is a denial.
    public static let auditLineCount = 100_000
    public static let auditLog: Int32 = {
        let scopes = SyntheticPolicy.grantStrings(tools: toolCount, scopes: scopeCount, seed: seed, count: 400)
        var text = ""
        text.reserveCapacity(auditLineCount * 300)
        for i in 0..<auditLineCount {
            let client = i % 20
            let scope = scopes[(i &* 7 &+ client &* 13) % scopes.count]
            let other = scopes[(client &* 31) % scopes.count]
            let allowed = i % 10 != 0
            text += #"{"v":1,"time":"2026-11-23T12:00:00Z","client_id":"client-\#(client)","sub":"user-\#(i % 97)","#
            text += #""jti":null,"method":"tools/call","tool":"tool_\#(i % 9_000)","action":null,"#
            text += #""arguments":{"path":"[redacted]"},"granted":["\#(scope)","\#(other)"],"allowed":\#(allowed),"#
            text += #""reason":"\#(allowed ? "allowed" : "missing_scope")","required":["\#(scope)"],"missing":[],"#
            text += #""rule":"synthetic.yaml:\#(i % 9_000 + 40):3","policy_version":"sha256:0-1"}"# + "\n"
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "scopegate-bench-audit-\(getpid()).jsonl"
        ).path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        let fd = open(path, O_RDONLY)
        unlink(path)
        return fd
    }()
}
