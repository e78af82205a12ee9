import Foundation

/// A token that passed every check: signature (or introspection), issuer, audience, lifetime, header rules.
///
/// ``scopes`` are the raw granted strings as the issuer wrote them (plus role-mapped scopes), not prefix-stripped:
/// the core strips ``stripPrefixes`` when it normalizes the grant, and restores them in challenges.
public struct VerifiedToken: Sendable, Hashable {
    /// The `iss` (exactly one of the configured issuers).
    public let issuer: String
    /// The `sub` claim, if present.
    public let subject: String?
    /// The client: `client_id`, else `azp`, else `appid` (Entra v1), else `cid` (Okta).
    public let clientID: String?
    /// The accepted `aud` values of the token (all of them, not only ours).
    public let audiences: [String]
    /// Granted strings from the configured scope claims, then role-mapped scopes; de-duplicated, in token order.
    public let scopes: [String]
    /// The issuer's configured `strip_prefixes`.
    public let stripPrefixes: [String]
    /// The `jti` claim, if present (for audit; never the token itself).
    public let jwtID: String?
    /// When the token stops being valid (`exp`, without leeway).
    public let expiresAt: Date
    /// Every claim (or introspection response member) as a JSON object.
    public let claims: ClaimValue

    /// Creates a verified token (the verifier builds these; public for tests of code that consumes them).
    public init(issuer: String, subject: String?, clientID: String?, audiences: [String], scopes: [String],
                stripPrefixes: [String], jwtID: String?, expiresAt: Date, claims: ClaimValue) {
        self.issuer = issuer
        self.subject = subject
        self.clientID = clientID
        self.audiences = audiences
        self.scopes = scopes
        self.stripPrefixes = stripPrefixes
        self.jwtID = jwtID
        self.expiresAt = expiresAt
        self.claims = claims
    }
}
