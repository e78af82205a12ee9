import Crypto
import Foundation

/// A PKCE pair (RFC 7636), S256 only: a fresh verifier of 32 random bytes (43 base64url characters) and its
/// challenge, `BASE64URL(SHA256(verifier))`.
///
/// ```swift
/// let pkce = PKCE()
/// // authorize: code_challenge=\(pkce.challenge)&code_challenge_method=S256
/// // token:     code_verifier=\(pkce.verifier)
/// ```
public struct PKCE: Sendable, Hashable {
    /// The only method this client uses: `plain` sends the verifier in the clear.
    public static let method = "S256"
    public let verifier: String
    public let challenge: String

    /// A fresh pair from the system's secure random source.
    public init() { self.init(verifier: Randomness.base64URL(bytes: 32)) }

    /// The pair for a given verifier (tests; RFC 7636 Appendix B).
    public init(verifier: String) {
        self.verifier = verifier
        challenge = Randomness.base64URL(Array(SHA256.hash(data: Array(verifier.utf8))))
    }

    /// Checks a requested method: anything but `S256` is `client-pkce-method`.
    public static func check(method: String) throws(ClientError) {
        guard method == Self.method else {
            throw ClientError(
                .pkceMethod, "code_challenge_method `\(method)` is refused; only `S256` is used (RFC 7636, OAuth 2.1)")
        }
    }
}

/// Secure random values, base64url without padding.
enum Randomness {
    static func base64URL(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// The `state` values of authorization requests in flight: each carries 32 random bytes, is accepted once, and
/// only within its lifetime; anything else is `client-state` with the reason.
///
/// ```swift
/// let book = StateBook(lifetime: 300, clock: { Date() })
/// let state = await book.issue()
/// try await book.consume(state)      // ok
/// try await book.consume(state)      // throws: already used
/// ```
public actor StateBook {
    public let lifetime: TimeInterval
    let clock: @Sendable () -> Date
    var pending: [String: Date] = [:]
    var used: Set<String> = []

    public init(lifetime: TimeInterval = 300, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.clock = clock
    }

    /// A fresh state value (32 random bytes, base64url).
    public func issue() -> String {
        let state = Randomness.base64URL(bytes: 32)
        pending[state] = clock().addingTimeInterval(lifetime)
        return state
    }

    /// Accepts `state` once; a missing, unknown, replayed or expired state throws.
    public func consume(_ state: String?) throws(ClientError) {
        guard let state, !state.isEmpty else {
            throw ClientError(.state, "the redirect carries no `state`; refusing it (possible CSRF)")
        }
        if used.contains(state) {
            throw ClientError(.state, "the redirect's `state` was already used; refusing a replay")
        }
        guard let deadline = pending.removeValue(forKey: state) else {
            throw ClientError(.state, "the redirect's `state` does not match the one sent; refusing it (possible CSRF)")
        }
        used.insert(state)
        guard clock() <= deadline else {
            throw ClientError(.state, "the redirect's `state` expired (older than \(Int(lifetime)) s); start again")
        }
    }
}
