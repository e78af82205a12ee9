import Foundation
import ScopeGate

/// Seeded generator of large, realistic, error-free policies and of matching call samples, shared by the
/// benchmarks, the fuzzers and the tests. The same `(tools, scopes, seed)` always gives the same text, on every
/// platform: it uses its own SplitMix64 generator, never the system's.
///
/// Shape of a generated policy (`version: 1`):
/// - **Scopes**: services `svc<i>`, each with areas `area<j>` of resources `res<k>`, each resource a chain
///   `…:admin` → `…:write` → `…:read` (risks admin / normal-or-sensitive / low-or-normal); each area a
///   `svc<i>:area<j>:manage` scope (risk admin) implying its resources' `admin` scopes, so the implication
///   chain `manage → admin → write → read` has depth 4. Every fifth service also defines the wildcard
///   `svc<i>:*`, and some areas `svc<i>:area<j>:*`.
/// - **Tools**: `tool_<n>` exact names, about 40% requiring `any` of 2–4 clauses (some clauses `all` of two
///   scopes), the rest single scopes, `all` pairs, `actions` chosen by the `action` argument (`read`, `write`,
///   `delete`), and `when` conditions using `gt`, `in` and `prefix`. About one tool in a hundred is a glob
///   `batch_<g>_*` (distinct literal prefixes, so never ambiguous), and one in a thousand is `public: true`.
///
/// ```swift
/// let yaml = SyntheticPolicy.generate(tools: 10_000, scopes: 800, seed: 42)
/// let policy = try PolicyCompiler().compile(source: yaml, name: "synthetic.yaml").compiled()
/// let samples = SyntheticPolicy.sampleCalls(tools: 10_000, scopes: 800, seed: 42, count: 64)
/// ```
public struct SyntheticPolicy: Sendable {
    /// What a sample call exercises.
    public enum SampleKind: String, Sendable, Hashable, CaseIterable {
        /// An exact tool name with a requirement (single scope, `all` or `any`).
        case exactTool = "exact_tool"
        /// A tool with `actions`; the call names one of them.
        case action
        /// A tool with `when` conditions; the call's arguments match one of them.
        case conditional
        /// A name matched by a `batch_<g>_*` glob, with an argument condition.
        case globTool = "glob_tool"
    }

    /// A call with a grant built for it, and whether that grant was built to be allowed or denied.
    public struct Sample: Sendable, Hashable {
        /// What the call exercises.
        public var kind: SampleKind
        /// The call (always `tools/call`).
        public var call: Call
        /// Granted scope strings. For an allow sample: one clause of every applicable requirement part. For a
        /// deny sample: the first part's first clause with its first scope replaced by a `read` scope that the
        /// tool's requirement does not name (reads imply nothing, so that part stays unsatisfied).
        public var granted: [String]
        /// `true` when the grant was built to satisfy the call, `false` when built to fail it.
        public var expectAllowed: Bool
    }

    /// The policy YAML text for `tools` tools (at least 1) over about `scopes` scopes (at least 8), seeded by
    /// `seed`. The result compiles without errors through ``PolicyCompiler/compile(source:name:)``.
    public static func generate(tools: Int, scopes: Int, seed: UInt64) -> String {
        Blueprint(tools: tools, scopes: scopes, seed: seed).render()
    }

    /// `count` deterministic samples over the policy of the same `(tools, scopes, seed)`, cycling through the
    /// kinds in ``SampleKind`` order (kinds the policy has no tool for are skipped); every other sample of a
    /// kind is built to be denied when `includeDenials` is true.
    public static func sampleCalls(
        tools: Int, scopes: Int, seed: UInt64, count: Int,
        includeDenials: Bool = true
    ) -> [Sample] {
        Blueprint(tools: tools, scopes: scopes, seed: seed).samples(
            count: count, seed: seed, includeDenials: includeDenials)
    }

    /// `count` distinct exact tool names of the policy of the same `(tools, scopes, seed)`, spread evenly over
    /// it, for least-privilege questions (a client's tool list). Public tools are included when they fall in.
    public static func toolNames(tools: Int, scopes: Int, seed: UInt64, count: Int) -> [String] {
        let blueprint = Blueprint(tools: tools, scopes: scopes, seed: seed)
        let exact = blueprint.tools.filter { !$0.name.contains("*") }.map(\.name)
        guard count < exact.count else { return exact }
        let n = max(count, 0)
        return (0..<n).map { exact[$0 * exact.count / n] }
    }

    /// `count` granted scope strings (concrete and wildcard scopes defined by the policy of the same
    /// `(tools, scopes, seed)`), for measuring grant resolution.
    public static func grantStrings(tools: Int, scopes: Int, seed: UInt64, count: Int) -> [String] {
        let blueprint = Blueprint(tools: tools, scopes: scopes, seed: seed)
        var rng = SplitMix64(seed: seed ^ 0x6772_616e_74)
        var out: [String] = []
        for i in 0..<max(count, 0) {
            if i == 0, let wildcard = blueprint.scopes.first(where: \.isWildcard) {
                out.append(wildcard.name)
            } else {
                out.append(blueprint.concrete[rng.below(blueprint.concrete.count)])
            }
        }
        return out
    }
}
