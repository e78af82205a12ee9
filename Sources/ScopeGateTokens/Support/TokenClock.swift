import Foundation

/// The source of "now" for every time-dependent check (`exp`, `nbf`, `iat`, cache expiry, JWKS freshness).
///
/// Inject a fixed or manually advanced clock in tests so that expiry and cache behaviour is tested without sleeping.
public protocol TokenClock: Sendable {
    /// The current time.
    func now() -> Date
}

/// The wall clock (`Date()`).
public struct SystemTokenClock: TokenClock {
    /// Creates the wall clock.
    public init() {}
    /// `Date()`.
    public func now() -> Date { Date() }
}
