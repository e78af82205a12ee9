import ScopeGate

/// Why an RFC 8693 token exchange did not produce a downstream token.
///
/// Errors are values: ``Code`` is an open set of stable string ids (`exchange.invalid_target`, …). ``message`` is
/// short and safe to show to the MCP client: it never contains a token or a secret, and at most a few sanitized
/// characters of what the authorization server answered.
///
/// ```swift
/// do {
///     downstream = try await exchanger.exchange(subjectToken: bearer, audience: api, scopes: ["crm:clients:read"])
/// } catch {
///     return toolError("\(error.code): \(error.message)")     // safe to show: no token, no secret
/// }
/// ```
public struct TokenExchangeError: CodedError, Hashable {
    /// A stable reason identifier. Compare codes, not messages.
    ///
    /// ```swift
    /// if error.code == .unavailable { … }                          // the authorization server is down: retry later
    /// ```
    public typealias Code = ErrorCode<TokenExchangeError>

    /// The stable reason.
    public let code: Code
    /// A short, lowercase, safe explanation.
    public let message: String
    /// The OAuth `error` the authorization server returned, when it returned one (sanitized).
    public let oauthError: String?

    package init(_ code: Code, _ message: String, oauthError: String? = nil) {
        self.code = code
        self.message = message
        self.oauthError = oauthError
    }
}

extension ErrorCode where Owner == TokenExchangeError {
    /// No exchange settings for the issuer, or the client secret's environment variable is not set.
    public static let notConfigured = Self("exchange.not_configured")
    /// No caller token to exchange (e.g. a stdio caller without one).
    public static let noSubjectToken = Self("exchange.no_subject_token")
    /// The authorization server refused the audience or resource (`invalid_target`, RFC 8693 §2.2.2).
    public static let invalidTarget = Self("exchange.invalid_target")
    /// The authorization server refused the requested scopes (`invalid_scope`).
    public static let invalidScope = Self("exchange.invalid_scope")
    /// The authorization server did not accept this server's client credentials (`invalid_client`).
    public static let invalidClient = Self("exchange.invalid_client")
    /// The authorization server refused the caller's token as `subject_token` (`invalid_grant`).
    public static let invalidGrant = Self("exchange.invalid_grant")
    /// Any other OAuth error (`invalid_request`, `unauthorized_client`, `unsupported_grant_type`, …).
    public static let rejected = Self("exchange.rejected")
    /// The token endpoint could not be reached, timed out, or answered 5xx/429: fail closed, retry later.
    public static let unavailable = Self("exchange.unavailable")
    /// A 200 answer that is not a usable RFC 8693 response (not strict JSON, no `access_token`,
    /// no `issued_token_type`, a `token_type` other than `Bearer`, …).
    public static let invalidResponse = Self("exchange.invalid_response")
}
