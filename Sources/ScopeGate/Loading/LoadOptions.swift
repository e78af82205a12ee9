import Foundation

/// Limits and inputs for loading policy files. Limits are checked before (or while) doing work, so a
/// hostile file costs bounded time and memory.
///
/// ```swift
/// var options = LoadOptions(environment: ["TENANT": "acme"])   // `${TENANT}` in the policy
/// options.maxFileBytes = 1 << 20
/// let result = PolicyCompiler(options: options).compile(path: "policy.yaml")
/// ```
public struct LoadOptions: Sendable {
    /// Largest policy file accepted, in bytes (default 8 MiB).
    public var maxFileBytes: Int = 8 << 20
    /// Deepest nesting of mappings and lists accepted (default 64).
    public var maxDepth: Int = 64
    /// Most YAML nodes one file may expand to, aliases included (default 1,000,000).
    public var maxNodes: Int = 1_000_000
    /// Longest scalar accepted, in UTF-8 bytes (default 64 KiB).
    public var maxScalarBytes: Int = 64 << 10
    /// Most files one policy may load through `include:` (default 256).
    public var maxFiles: Int = 256
    /// Values for `${VAR}` substitution. Defaults to the process environment.
    public var environment: [String: String]

    /// Default limits, reading `${VAR}` from the process environment.
    public init(environment: [String: String]? = nil) {
        self.environment = environment ?? ProcessEnvironment.current()
    }
}

enum ProcessEnvironment {
    static func current() -> [String: String] { ProcessInfo.processInfo.environment }
}
