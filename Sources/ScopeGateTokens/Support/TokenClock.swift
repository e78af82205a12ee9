import Foundation

/// The source of "now" for every time-dependent check (`exp`, `nbf`, `iat`, cache expiry, JWKS freshness).
///
/// Inject a fixed or manually advanced clock in tests so that expiry and cache behaviour is tested without sleeping.
///
/// ```swift
/// struct FixedClock: TokenClock {                              // tests: expiry without sleeping
///     let date: Date
///     func now() -> Date { date }
/// }
/// let verifier = TokenVerifier(config: tokens, resource: resource, clock: FixedClock(date: issuedAt + 3600))
/// ```
public protocol TokenClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The wall clock (`Date()`).
///
/// ```swift
/// let cache = VerifiedTokenCache<Grant>(capacity: 1_000, clock: SystemTokenClock())
/// ```
public struct SystemTokenClock: TokenClock {
    /// Creates the wall clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }
}
