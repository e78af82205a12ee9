import Foundation

/// A token issued by an RFC 8693 exchange for one downstream API: what a tool handler uses instead of the caller's
/// token (which it never receives).
///
/// ``description`` and ``debugDescription`` redact the token, so logging the value does not leak it.
///
/// ```swift
/// var request = URLRequest(url: crmURL)
/// request.setValue(downstream.authorizationHeaderValue, forHTTPHeaderField: "Authorization")
/// logger.info("calling the CRM with \(downstream)")            // audience, scopes, jti, expiry; never the token
/// ```
public struct DownstreamToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The issued token (`access_token` of the response). Send it as ``authorizationHeaderValue``.
    public let accessToken: String
    /// The response's `issued_token_type` (`urn:ietf:params:oauth:token-type:access_token` or `…:jwt`).
    public let issuedTokenType: String
    /// The issuer that exchanged it.
    public let issuer: String
    /// The requested audience (the downstream API).
    public let audience: String
    /// The requested scopes.
    public let requestedScopes: [String]
    /// The issued token's scopes: the response's `scope`, else the requested ones (RFC 6749 §5.1).
    public let scopes: [String]
    /// When the issued token expires (`expires_in` from the response time, else the JWT's `exp`, else a default).
    public let expiresAt: Date
    /// The issued token's `jti`, read without verification when it is a JWT (for audit).
    public let tokenID: String?
    /// Whether this value came from the exchange cache rather than a request of its own.
    public let cached: Bool

    /// `Bearer <token>`.
    public var authorizationHeaderValue: String { "Bearer \(accessToken)" }

    /// Creates a value (the exchanger builds these; public for tests of code that consumes them).
    public init(
        accessToken: String, issuedTokenType: String, issuer: String, audience: String, requestedScopes: [String],
        scopes: [String], expiresAt: Date, tokenID: String?, cached: Bool
    ) {
        self.accessToken = accessToken
        self.issuedTokenType = issuedTokenType
        self.issuer = issuer
        self.audience = audience
        self.requestedScopes = requestedScopes
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.tokenID = tokenID
        self.cached = cached
    }

    func markedCached() -> DownstreamToken {
        DownstreamToken(
            accessToken: accessToken, issuedTokenType: issuedTokenType, issuer: issuer, audience: audience,
            requestedScopes: requestedScopes, scopes: scopes, expiresAt: expiresAt, tokenID: tokenID, cached: true)
    }

    /// The audience, scopes, `jti` and expiry; never the token.
    public var description: String {
        "DownstreamToken(audience: \(audience), scopes: \(scopes), jti: \(tokenID ?? "-"), expiresAt: \(expiresAt), token: [redacted])"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}
