import Foundation
import ScopeGate

/// The RFC 8693 exchangers of a policy's `tokens:` section, one per issuer with `exchange:`, rebuilt when the
/// section changes (a reload), and the exchange for a tool's `downstream:`: at `downstream.issuer`, else at the
/// caller's token's issuer. Shared by the embedded adapter and `scopegate proxy`, so both exchange the same way.
///
/// ```swift
/// let exchangers = TokenExchangers(fetcher: fetcher)
/// let result = await exchangers.exchange(
///     downstream, tokens: policy.model.tokens, subjectToken: bearer, callerIssuer: verified.issuer,
///     subjectExpiresAt: verified.expiresAt)
/// if case .success(let token) = result { headers["Authorization"] = token.authorizationHeaderValue }
/// ```
public final class TokenExchangers: Sendable {
    struct Entry {
        let tokens: TokensConfig
        let byIssuer: [String: TokenExchanger]
    }

    let limits: TokenExchanger.Limits
    let fetcher: any HTTPFetcher
    let clock: any TokenClock
    let environment: [String: String]
    let state = LockedValue<Entry?>(nil)

    /// Creates an empty set; exchangers are built on first use with these settings.
    public init(
        limits: TokenExchanger.Limits = .init(), fetcher: any HTTPFetcher,
        clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.limits = limits
        self.fetcher = fetcher
        self.clock = clock
        self.environment = environment
    }

    /// The exchangers of `tokens` by issuer (the same instances, and so the same caches, while `tokens` is
    /// unchanged).
    public func exchangers(for tokens: TokensConfig) -> [String: TokenExchanger] {
        state.withLock { entry in
            if let entry, entry.tokens == tokens { return entry.byIssuer }
            var byIssuer: [String: TokenExchanger] = [:]
            for issuer in tokens.issuers where byIssuer[issuer.issuer] == nil {
                guard let settings = issuer.exchange else { continue }
                byIssuer[issuer.issuer] = TokenExchanger(
                    issuer: issuer.issuer, settings: settings, limits: limits, fetcher: fetcher, clock: clock,
                    environment: environment)
            }
            entry = Entry(tokens: tokens, byIssuer: byIssuer)
            return byIssuer
        }
    }

    /// Exchanges `subjectToken` (the caller's token) for a token to `downstream.audience` with
    /// `downstream.scopes`, at `downstream.issuer` or else `callerIssuer`. Never throws: the failure is a value
    /// (`exchange.no_subject_token`, `exchange.not_configured`, or the exchanger's error).
    public func exchange(
        _ downstream: DownstreamExchange, tokens: TokensConfig?, subjectToken: String?, callerIssuer: String?,
        subjectExpiresAt: Date?
    ) async -> Result<DownstreamToken, TokenExchangeError> {
        guard let subjectToken, !subjectToken.isEmpty else {
            return .failure(TokenExchangeError(.noSubjectToken, "the caller presented no token to exchange"))
        }
        let issuer = downstream.issuer ?? callerIssuer
        guard let issuer, let exchanger = exchangers(for: tokens ?? TokensConfig(issuers: []))[issuer] else {
            return .failure(
                TokenExchangeError(
                    .notConfigured,
                    issuer.map { "issuer \(TokenError.quote($0)) has no token exchange configured" }
                        ?? "no issuer to exchange the caller's token at"))
        }
        do throws(TokenExchangeError) {
            return .success(
                try await exchanger.exchange(
                    subjectToken: subjectToken, audience: downstream.audience, scopes: downstream.scopes,
                    subjectExpiresAt: subjectExpiresAt))
        } catch {
            return .failure(error)
        }
    }
}
