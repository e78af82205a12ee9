import ArgumentParser
import ScopeGate

/// `--policy FILE`, shared by every command that needs a compiled policy.
///
/// ```swift
/// @OptionGroup var policyOptions: PolicyOptions
/// let policy = try policyOptions.load()
/// ```
public struct PolicyOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The policy file (YAML), or a directory holding it as policy.yaml.", valueName: "path"))
    public var policy: String

    public init() {}
    public init(policy: String) { self.policy = policy }

    /// Compiles the policy; a policy with errors prints its diagnostics and exits 2.
    public func load() throws -> CompiledPolicy {
        let result = PolicyCompiler().compile(path: policy)
        guard let model = result.model else {
            let renderer = DiagnosticRenderer(sources: result.sources, color: Output.color(fd: 2))
            Output.stderr(renderer.human(Diagnostics(result.diagnostics.filter { $0.severity == .error })))
            throw Output.fail("the policy `\(policy)` has errors", help: "run `scopegate lint \(policy)` and fix them")
        }
        return CompiledPolicy(model: model)
    }
}
