/// Whether the policy's denials are enforced or only reported: `mode:` at the top of a policy, and on a tool.
///
/// In `shadow`, every request is still decided, but a denial is let through and reported (an audit event with
/// `"would_deny": true`, a metric): how a team rolls a new or stricter policy out without breaking clients.
///
/// ```swift
/// let mode = policy.model.mode(ofToolRule: policy.toolRuleIndex(for: "delete_file"))
/// if mode == .shadow { print("delete_file denials are reported, not enforced") }
/// ```
public enum PolicyMode: String, Sendable, Hashable, CaseIterable {
    /// Denials are refused (the default).
    case enforce
    /// Denials are reported and let through.
    case shadow
}

extension PolicyModel {
    /// The mode of a decision by the tool rule at `index` (nil: not a tool rule): the rule's own `mode`, else
    /// the policy's top-level `mode`, else ``PolicyMode/enforce``.
    public func mode(ofToolRule index: Int?) -> PolicyMode {
        if let index, tools.indices.contains(index), let mode = tools[index].mode { return mode }
        return self.mode ?? .enforce
    }

    /// Whether any part of the policy is in shadow mode (the top level, or a tool).
    public var hasShadowMode: Bool { self.mode == .shadow || tools.contains { $0.mode == .shadow } }
}
