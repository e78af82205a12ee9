import Foundation
import ScopeGate
import ScopeGateTokens

// The initializers of the fetching token types without a `fetcher:`: they fetch with a `URLSessionFetcher()`
// (5 s timeout). They live here, not in ScopeGateTokens, so that a program that does not import this library
// links no FoundationNetworking (and so no libcurl).

extension TokenVerifier {
    /// A verifier that fetches JWKS, discovery and introspection with a ``URLSessionFetcher``.
    ///
    /// ```swift
    /// import ScopeGateURLSession
    /// let verifier = TokenVerifier(config: policy.tokens, resource: policy.resource.id)
    /// ```
    public init(
        config: TokensConfig, resource: String, options: Options = Options(), staticKeys: [String: JWKSet] = [:],
        clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.init(
            config: config, resource: resource, options: options, staticKeys: staticKeys,
            fetcher: URLSessionFetcher(), clock: clock, environment: environment)
    }
}

extension JWKSCache {
    /// A cache that fetches with a ``URLSessionFetcher``; nothing is fetched until the first `keySet()`.
    ///
    /// ```swift
    /// let cache = JWKSCache(issuer: "https://auth.example.com", jwksURI: nil)
    /// ```
    public init(
        issuer: String, jwksURI: String?, policy: Policy = Policy(), clock: any TokenClock = SystemTokenClock()
    ) {
        self.init(issuer: issuer, jwksURI: jwksURI, policy: policy, fetcher: URLSessionFetcher(), clock: clock)
    }
}

extension TokenExchanger {
    /// An exchanger that posts to the token endpoint with a ``URLSessionFetcher``.
    ///
    /// ```swift
    /// let exchanger = TokenExchanger(issuer: "https://auth.example.com", settings: settings)
    /// ```
    public init(
        issuer: String, settings: TokensConfig.Exchange, limits: Limits = Limits(),
        clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.init(
            issuer: issuer, settings: settings, limits: limits, fetcher: URLSessionFetcher(), clock: clock,
            environment: environment)
    }
}

extension TokenExchangers {
    /// Exchangers that post to token endpoints with a ``URLSessionFetcher``.
    ///
    /// ```swift
    /// let exchangers = TokenExchangers()
    /// ```
    public convenience init(
        limits: TokenExchanger.Limits = .init(), clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.init(limits: limits, fetcher: URLSessionFetcher(), clock: clock, environment: environment)
    }
}
