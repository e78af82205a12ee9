import ScopeGateRequestAuthorization
import ScopeGateTokens

extension TokenAuthenticator {
    /// The verified token of an `Authorization` header, from the verified-token cache (no I/O): its client,
    /// subject and `jti` go into audit events. Nil when the token was not verified here (or has expired).
    ///
    /// ```swift
    /// let operations = ProxyOperations(reporter: reporter, verifiedToken: tokens.verifiedToken)
    /// ```
    @Sendable public func verifiedToken(_ header: String?) -> VerifiedToken? {
        guard let token = BearerChallenge.token(fromAuthorization: header) else { return nil }
        return cache.value(for: token)?.token
    }
}
