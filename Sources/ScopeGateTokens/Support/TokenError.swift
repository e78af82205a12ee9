import ScopeGate

/// Why a bearer token was refused (or why it could not be checked).
///
/// Errors are values: ``Code`` is an open set of stable string ids (`token.expired`, `token.unknown_kid`, …)
/// so new reasons never break clients that switch over them. Every code maps to the OAuth 2.0 Bearer
/// (RFC 6750 §3.1) error `invalid_token`; ``description`` is a short, safe `error_description`: it never
/// echoes attacker-controlled input beyond a few sanitized characters.
///
/// ```swift
/// do {
///     _ = try await verifier.verify(bearer)
/// } catch {
///     metrics.increment(error.code.id)                         // stable: `token.expired`, `token.unknown_kid`, …
///     let challenge = "Bearer error=\"\(error.oauthError)\", error_description=\"\(error.message)\""
/// }
/// ```
public struct TokenError: CodedError, Hashable {
    /// A stable reason identifier. Compare codes, not descriptions.
    ///
    /// ```swift
    /// if error.code == .expired || error.code == .notYetValid { … }  // a clock problem rather than a forged token
    /// ```
    public typealias Code = ErrorCode<TokenError>

    /// The stable reason.
    public let code: Code
    /// A short, lowercase, safe explanation suitable for `error_description`.
    public let message: String

    /// Creates an error; `message` must not contain unbounded attacker input (see ``TokenError/quote(_:)``).
    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The OAuth error code for a `WWW-Authenticate` challenge: always `invalid_token`.
    public var oauthError: String { "invalid_token" }
    /// Quotes untrusted text for a message: at most 40 printable ASCII characters, backquoted.
    static func quote(_ text: some StringProtocol) -> String {
        quoted(text, limit: 40, refusing: "\"\\")
    }
}

extension ErrorCode where Owner == TokenError {
    /// The token is longer than the configured limit (checked before any parsing).
    public static let tooLarge = Self("token.too_large")
    /// Not a compact JWS (three base64url segments), bad base64url, or a header/payload that is not a JSON object.
    public static let malformed = Self("token.malformed")
    /// A JSON object in the header or payload repeats a key.
    public static let duplicateKey = Self("token.duplicate_key")
    /// The header or payload nests deeper than the configured limit.
    public static let tooDeep = Self("token.too_deep")
    /// `alg: none` (an unsigned token).
    public static let algNone = Self("token.alg_none")
    /// The header `alg` is not in the issuer's allow-list.
    public static let algNotAllowed = Self("token.alg_not_allowed")
    /// The header `alg` does not fit the selected key (its `alg`, `kty` or curve).
    public static let algKeyMismatch = Self("token.alg_key_mismatch")
    /// The header lists `crit` extensions; none are understood, so the token is refused (RFC 7515 §4.1.11).
    public static let critUnsupported = Self("token.crit_unsupported")
    /// The header carries its own key or key location (`jwk`, `jku`, `x5u`, `x5c`); never used, never fetched.
    public static let headerKeyRefused = Self("token.header_key_refused")
    /// The header `typ` is not the required one (e.g. `at+jwt`, RFC 9068).
    public static let typMismatch = Self("token.typ_mismatch")
    /// The header has no `kid` but the issuer's key set has more than one key.
    public static let kidRequired = Self("token.kid_required")
    /// No key with the header's `kid` (even after one rate-limited refresh); never falls back to another key.
    public static let unknownKid = Self("token.unknown_kid")
    /// The signature does not verify with the selected key.
    public static let badSignature = Self("token.bad_signature")
    /// `iss` is missing or not exactly one of the configured issuers.
    public static let issuerUntrusted = Self("token.issuer_untrusted")
    /// No `aud` claim.
    public static let audienceMissing = Self("token.audience_missing")
    /// `aud` does not contain an accepted audience.
    public static let audienceMismatch = Self("token.audience_mismatch")
    /// `exp` is in the past (beyond the leeway).
    public static let expired = Self("token.expired")
    /// `nbf` is in the future (beyond the leeway).
    public static let notYetValid = Self("token.not_yet_valid")
    /// `iat` is in the future (beyond the leeway).
    public static let issuedInFuture = Self("token.issued_in_future")
    /// A required claim (`exp`) is absent.
    public static let claimMissing = Self("token.claim_missing")
    /// A registered claim has the wrong JSON type (e.g. `exp` not a number, `scope` not a string).
    public static let claimInvalid = Self("token.claim_invalid")
    /// The token is bound to a key (`cnf`, DPoP / mTLS); proof-of-possession checking is not configured.
    public static let dpopUnsupported = Self("token.dpop_unsupported")
    /// Introspection (RFC 7662) answered `active: false`.
    public static let inactive = Self("token.inactive")
    /// An opaque (non-JWT) token, but no issuer has introspection configured.
    public static let opaqueUnsupported = Self("token.opaque_unsupported")
    /// The issuer's keys could not be obtained (never fetched successfully, or stale beyond the maximum): fail closed.
    public static let keysUnavailable = Self("token.keys_unavailable")
    /// The introspection endpoint could not be used (network, HTTP status, missing secret, bad response): fail closed.
    public static let introspectionFailed = Self("token.introspection_failed")
}
