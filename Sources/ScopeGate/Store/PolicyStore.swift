import Foundation

/// A compiled policy together with the version that identifies it in decisions and audit events.
///
/// ```swift
/// let snapshot = store.current   // one version for the whole request
/// let decision = snapshot.policy.decide(call, grant: snapshot.policy.grant(scopes))
/// print(snapshot.version)
/// ```
public struct PolicySnapshot: Sendable {
    public let policy: CompiledPolicy
    /// `<content hash>-<load counter>`.
    public let version: String
}

/// Outcome of a reload.
///
/// ```swift
/// switch store.reload(path: "policy.yaml") {
/// case .swapped(let snapshot, _): print("now", snapshot.version)
/// case .rejected(let diagnostics, _): print("kept the old policy:", diagnostics.count(.error), "errors")
/// }
/// ```
public enum ReloadOutcome: Sendable {
    /// The new policy is in force.
    case swapped(PolicySnapshot, warnings: Diagnostics)
    /// The new policy had errors; the previous one stays in force.
    case rejected(Diagnostics, sources: [String: String])
}

/// Holds the policy in force. A reload compiles the new policy fully off to the side and swaps it in
/// atomically; a policy with errors never replaces a good one. Readers take a snapshot and decide with it,
/// so every decision uses exactly one version.
///
/// ```swift
/// let store = PolicyStore(initial: try PolicyCompiler().compile(path: "policy.yaml").compiled())
/// _ = store.reload(path: "policy.yaml")   // on SIGHUP or a file change; a bad policy never replaces a good one
/// let policy = store.current.policy
/// ```
public final class PolicyStore: Sendable {
    private let state: LockedValue<(PolicySnapshot, Int)>
    private let compiler: PolicyCompiler

    /// Creates a store from an already-compiled policy.
    public init(initial: CompiledPolicy, compiler: PolicyCompiler = PolicyCompiler()) {
        self.compiler = compiler
        self.state = LockedValue((PolicySnapshot(policy: initial, version: "\(initial.model.contentHash)-1"), 1))
    }

    /// Compiles `path` (the root policy file, or a directory holding it as `policy.yaml`; see ``PolicyPath``) and
    /// creates a store, or throws every diagnostic.
    public convenience init(path: String, compiler: PolicyCompiler = PolicyCompiler()) throws(PolicyError) {
        let result = compiler.compile(path: path)
        self.init(initial: try result.compiled(), compiler: compiler)
    }

    /// The policy in force now.
    public var current: PolicySnapshot { state.withLock { $0.0 } }

    /// Compiles `path` and swaps it in if it has no errors.
    @discardableResult
    public func reload(path: String) -> ReloadOutcome {
        install(compiler.compile(path: path))
    }

    /// Compiles `source` and swaps it in if it has no errors.
    @discardableResult
    public func reload(source: String, name: String) -> ReloadOutcome {
        install(compiler.compile(source: source, name: name))
    }

    func install(_ result: CompileResult) -> ReloadOutcome {
        guard let model = result.model else { return .rejected(result.diagnostics, sources: result.sources) }
        let compiled = CompiledPolicy(model: model)  // lowered before taking the lock
        let snapshot = state.withLock { current -> PolicySnapshot in
            let counter = current.1 + 1
            let snapshot = PolicySnapshot(policy: compiled, version: "\(model.contentHash)-\(counter)")
            current = (snapshot, counter)
            return snapshot
        }
        return .swapped(snapshot, warnings: result.diagnostics)
    }
}

/// A value behind a lock (the lock is the owner of the shared mutable state). Shared with the package's other
/// targets (`ScopeGateMCP`), so there is one such box.
package final class LockedValue<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    package init(_ value: Value) { self.value = value }
    package func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
