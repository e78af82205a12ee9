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
        // A lookup only: the cache holds tokens that passed the token68 check.
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return nil }
        return cache.value(for: token)?.token
    }
}
