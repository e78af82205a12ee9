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

/// An error value with a stable ``ErrorCode`` and a message for people; it prints as `code.id: message`. Every
/// ScopeGate error that is not a policy diagnostic conforms, so the printed form and the quoting of untrusted
/// text in messages are written once.
///
/// ```swift
/// public struct FetchError: CodedError, Hashable {
///     public typealias Code = ErrorCode<FetchError>
///     public let code: Code
///     public let message: String
/// }
/// print(FetchError(code: .init("fetch.timeout"), message: "no answer within 5 s"))  // fetch.timeout: no answer…
/// ```
public protocol CodedError: Error, CustomStringConvertible {
    /// The stable reason. Compare codes, not messages.
    var code: ErrorCode<Self> { get }
    /// A short, lowercase explanation, names in backticks.
    var message: String { get }
}

extension CodedError {
    /// `code.id: message`.
    public var description: String { "\(code.id): \(message)" }

    /// Quotes untrusted text for a message: backquoted, at most `limit` characters, each one that is not printable
    /// ASCII, or is a backquote or one of `refused`, written as `?`, and `…` after a cut.
    package static func quoted(_ text: some StringProtocol, limit: Int, refusing refused: String = "") -> String {
        var out = "`"
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            if scalar.value >= 0x20, scalar.value < 0x7F, scalar != "`", !refused.unicodeScalars.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "?"
            }
            count += 1
        }
        return out + "`"
    }
}
