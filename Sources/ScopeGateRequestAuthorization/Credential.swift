import Foundation
import ScopeGate
import ScopeGateTokens

/// What the token layer concluded about a request's bearer token, resolved against the policy in force.
///
/// ```swift
/// let credential = Credential(verified: token, policy: policy)   // after TokenVerifier.verify
/// let missing = Credential.missing                              // no `Authorization: Bearer`
/// ```
public enum Credential: Sendable {
    /// No bearer token.
    case missing
    /// A token that failed verification.
    case invalid(TokenError)
    /// A verified token: its grant, when it expires, and the issuer's prefixes to strip from scope strings.
    case granted(Grant, expiresAt: Date?, stripPrefixes: [String])

    /// The credential of a verified token, its grant resolved against `policy`.
    public init(verified token: VerifiedToken, policy: CompiledPolicy) {
        self = .granted(
            policy.grant(token.scopes, stripPrefixes: token.stripPrefixes), expiresAt: token.expiresAt,
            stripPrefixes: token.stripPrefixes)
    }
}
