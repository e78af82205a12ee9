import Foundation

/// A token that passed every check: signature (or introspection), issuer, audience, lifetime, header rules.
///
/// ``scopes`` are the raw granted strings as the issuer wrote them (plus role-mapped scopes), not prefix-stripped:
/// the core strips ``stripPrefixes`` when it normalizes the grant, and restores them in challenges.
///
/// ```swift
/// let token = try await verifier.verify(bearer)
/// logger.info("call", metadata: ["client": "\(token.clientID ?? "-")", "jti": "\(token.jwtID ?? "-")"])
/// let grant = policy.grant(token.scopes, stripPrefixes: token.stripPrefixes)
/// ```
public struct VerifiedToken: Sendable, Hashable {
    /// The fields live in one immutable object, so a copy (every cache hit returns one) retains one reference
    /// instead of nine.
    final class Storage: Sendable {
        let issuer: String
        let subject: String?
        let clientID: String?
        let audiences: [String]
        let scopes: [String]
        let stripPrefixes: [String]
        let jwtID: String?
        let expiresAt: Date
        let claims: ClaimValue
        let principal: String

        init(
            issuer: String, subject: String?, clientID: String?, audiences: [String], scopes: [String],
            stripPrefixes: [String], jwtID: String?, expiresAt: Date, claims: ClaimValue
        ) {
            self.issuer = issuer
            self.subject = subject
            self.clientID = clientID
            self.audiences = audiences
            self.scopes = scopes
            self.stripPrefixes = stripPrefixes
            self.jwtID = jwtID
            self.expiresAt = expiresAt
            self.claims = claims
            principal = VerifiedToken.principal(issuer: issuer, subject: subject, clientID: clientID)
        }
    }

    private let storage: Storage

    /// The `iss` (exactly one of the configured issuers).
    public var issuer: String { storage.issuer }
    /// The `sub` claim, if present.
    public var subject: String? { storage.subject }
    /// The client: `client_id`, else `azp`, else `appid` (Entra v1), else `cid` (Okta).
    public var clientID: String? { storage.clientID }
    /// The accepted `aud` values of the token (all of them, not only ours).
    public var audiences: [String] { storage.audiences }
    /// Granted strings from the configured scope claims, then role-mapped scopes; de-duplicated, in token order.
    public var scopes: [String] { storage.scopes }
    /// The issuer's configured `strip_prefixes`.
    public var stripPrefixes: [String] { storage.stripPrefixes }
    /// The `jti` claim, if present (for audit; never the token itself).
    public var jwtID: String? { storage.jwtID }
    /// When the token stops being valid (`exp`, without leeway).
    public var expiresAt: Date { storage.expiresAt }
    /// Every claim (or introspection response member) as a JSON object.
    public var claims: ClaimValue { storage.claims }
    /// Who the token speaks for, as one string (``principal(issuer:subject:clientID:)``): made once, when the token
    /// is verified, since a proxy reads it for every request it forwards (its sessions and stream slots are bound
    /// to it).
    public var principal: String { storage.principal }

    /// The principal of a token: issuer and subject (else the client id, for tokens without a subject), separated
    /// by a NUL so that no pair of strings can spell another.
    ///
    /// ```swift
    /// VerifiedToken.principal(issuer: "https://auth.example.com", subject: "alice", clientID: nil)
    /// // "https://auth.example.com\u{0}sub:alice"
    /// ```
    public static func principal(issuer: String, subject: String?, clientID: String?) -> String {
        let (kind, name) = subject.map { ("sub:", $0) } ?? ("client:", clientID ?? "")
        var principal = ""
        principal.reserveCapacity(issuer.utf8.count + 1 + kind.utf8.count + name.utf8.count)
        principal += issuer
        principal += "\u{0}"
        principal += kind
        principal += name
        return principal
    }

    /// Creates a verified token (the verifier builds these; public for tests of code that consumes them).
    public init(
        issuer: String, subject: String?, clientID: String?, audiences: [String], scopes: [String],
        stripPrefixes: [String], jwtID: String?, expiresAt: Date, claims: ClaimValue
    ) {
        storage = Storage(
            issuer: issuer, subject: subject, clientID: clientID, audiences: audiences, scopes: scopes,
            stripPrefixes: stripPrefixes, jwtID: jwtID, expiresAt: expiresAt, claims: claims)
    }

    public static func == (a: VerifiedToken, b: VerifiedToken) -> Bool {
        if a.storage === b.storage { return true }
        return a.issuer == b.issuer && a.subject == b.subject && a.clientID == b.clientID && a.audiences == b.audiences
            && a.scopes == b.scopes && a.stripPrefixes == b.stripPrefixes && a.jwtID == b.jwtID
            && a.expiresAt == b.expiresAt && a.claims == b.claims
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(issuer)
        hasher.combine(subject)
        hasher.combine(clientID)
        hasher.combine(audiences)
        hasher.combine(scopes)
        hasher.combine(stripPrefixes)
        hasher.combine(jwtID)
        hasher.combine(expiresAt)
        hasher.combine(claims)
    }
}
