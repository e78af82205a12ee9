/// The stable code of an error value: an open set of string ids, typed by the error that owns it, so the codes of
/// different errors never mix. Every ScopeGate error that is not a policy diagnostic (`TokenError`, `BundleError`,
/// `MCPClientError`, …) names its codes with it; compare codes, not messages.
///
/// ```swift
/// extension ErrorCode where Owner == MCPClientError {
///     public static let timeout = ErrorCode("mcp-timeout")
/// }
/// if error.code == .timeout { retry() }
/// ```
public struct ErrorCode<Owner>: Sendable, Hashable, CustomStringConvertible {
    /// The stable string id, e.g. `token.expired`.
    public let id: String

    /// A code with the stable id `id`.
    public init(_ id: String) { self.id = id }

    public var description: String { id }
}
