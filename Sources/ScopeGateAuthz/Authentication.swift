import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// What the token layer concluded about a decision request's bearer token: the credential the decision uses,
/// and who the token speaks for, which an allow answer passes on to the front proxy (never the token itself).
///
/// ```swift
/// let authentication = Authentication(verified: token, policy: policy)
/// let anonymous = Authentication(credential: .missing)
/// ```
public struct Authentication: Sendable {
    public var credential: Credential
    /// The token's `sub`.
    public var subject: String?
    /// The token's client (`client_id`, `azp`, …).
    public var clientID: String?
    /// The verified token, when there is one (its `jti` goes into audit events).
    public var token: VerifiedToken?

    public init(credential: Credential, subject: String? = nil, clientID: String? = nil) {
        self.credential = credential
        self.subject = subject
        self.clientID = clientID
    }

    /// The authentication of a credential and the token it came from (nil when none verified).
    public init(credential: Credential, token: VerifiedToken?) {
        self.init(credential: credential, subject: token?.subject, clientID: token?.clientID)
        self.token = token
    }

    /// The authentication of a verified token, its grant resolved against `policy`.
    public init(verified token: VerifiedToken, policy: CompiledPolicy) {
        self.init(credential: Credential(verified: token, policy: policy), token: token)
    }
}
