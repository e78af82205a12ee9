import Foundation
import ScopeGate
import ScopeGateTokens

/// Who is calling: the verified token (HTTP) or an injected identity (stdio), with the grant resolved against
/// the policy in force. Never holds the token string itself.
///
/// ```swift
/// let caller = Caller(scopes: ["read:files"], clientID: "stdio", policy: authorizer.store.current.policy)
/// let outcome = authorizer.decide(
///     Call(method: "tools/call", name: "file_manager", arguments: ["action": .string("read")]), caller: caller)
/// ```
public struct Caller: Sendable {
    /// The verified token, when the caller authenticated with a bearer token.
    public let token: VerifiedToken?
    /// The granted strings as the issuer wrote them (before prefix stripping).
    public let scopes: [String]
    /// Prefixes stripped from granted strings before they are matched (the issuer's `strip_prefixes`).
    public let stripPrefixes: [String]
    /// `client_id` (or `azp`/`appid`/`cid`).
    public let clientID: String?
    /// `sub`.
    public let subject: String?
    /// `jti`, for audit.
    public let tokenID: String?
    /// The grant resolved against the policy whose ``CompiledPolicy/stamp`` it carries.
    public let grant: Grant

    /// A caller from a verified token, with its grant resolved against `policy`.
    public init(token: VerifiedToken, policy: CompiledPolicy) {
        self.init(
            token: token, scopes: token.scopes, clientID: token.clientID, subject: token.subject,
            tokenID: token.jwtID, stripPrefixes: token.stripPrefixes, policy: policy)
    }

    /// A caller with explicitly granted scopes (stdio servers, tests): e.g. from a token verified at start-up
    /// or from the launching process's configuration.
    public init(
        scopes: [String], clientID: String? = nil, subject: String? = nil, tokenID: String? = nil,
        stripPrefixes: [String] = [], policy: CompiledPolicy
    ) {
        self.init(
            token: nil, scopes: scopes, clientID: clientID, subject: subject, tokenID: tokenID,
            stripPrefixes: stripPrefixes, policy: policy)
    }

    init(copying other: Caller, policy: CompiledPolicy) {
        self.init(
            token: other.token, scopes: other.scopes, clientID: other.clientID, subject: other.subject,
            tokenID: other.tokenID, stripPrefixes: other.stripPrefixes, policy: policy)
    }

    private init(
        token: VerifiedToken?, scopes: [String], clientID: String?, subject: String?, tokenID: String?,
        stripPrefixes: [String], policy: CompiledPolicy
    ) {
        self.token = token
        self.scopes = scopes
        self.stripPrefixes = stripPrefixes
        self.clientID = clientID
        self.subject = subject
        self.tokenID = tokenID
        self.grant = policy.grant(scopes, stripPrefixes: stripPrefixes)
    }

    /// This caller with its grant resolved against `policy` (a no-op when it already is).
    public func resolved(against policy: CompiledPolicy) -> Caller {
        grant.stamp == policy.stamp ? self : Caller(copying: self, policy: policy)
    }

    /// A stable key for binding sessions to the principal: issuer, subject and client.
    public var principal: String {
        "\(token?.issuer ?? "-")\u{0}\(subject ?? "-")\u{0}\(clientID ?? "-")"
    }
}
