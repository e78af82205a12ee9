import Crypto
import Foundation
import ScopeGate

/// An RFC 8693 token exchange client for one issuer (or Microsoft Entra's on-behalf-of flow with
/// `grant: on_behalf_of`), with a cache and single-flight requests.
///
/// A request is a form `POST` to the issuer's `exchange.endpoint`: `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
/// `subject_token` (the caller's token), `subject_token_type=urn:ietf:params:oauth:token-type:access_token`,
/// `requested_token_type` (access token), `audience` and/or `resource` (``TokensConfig/Exchange/target``), `scope`
/// (space-separated, when any), and client authentication (HTTP Basic or form fields, RFC 6749 §2.3.1; the secret
/// from the environment variable the policy names).
///
/// Issued tokens are cached by (SHA-256 of the caller's token, audience, sorted scopes) until their expiry minus
/// ``Limits/refreshMarginSeconds`` (and never past the caller's token's own expiry). Concurrent calls for the same
/// key share one request. Failures are not cached. The caller's token is sent only to the token endpoint.
///
/// ```swift
/// guard let settings = policy.model.tokens?.issuers.first?.exchange else { return }
/// let exchanger = TokenExchanger(issuer: "https://auth.example.com", settings: settings, fetcher: fetcher)
/// let downstream = try await exchanger.exchange(
///     subjectToken: bearer, audience: "https://crm.example.com", scopes: ["crm:clients:write"],
///     subjectExpiresAt: verified.expiresAt)
/// ```
public actor TokenExchanger {
    /// Cache and response bounds.
    ///
    /// ```swift
    /// let exchanger = TokenExchanger(
    ///     issuer: issuer, settings: settings,
    ///     limits: TokenExchanger.Limits(maxEntries: 1_000, refreshMarginSeconds: 60), fetcher: fetcher)
    /// ```
    public struct Limits: Sendable, Hashable {
        /// Most cached tokens (default 4096); the entry closest to expiry is evicted first.
        public var maxEntries: Int
        /// Largest accepted response body (default 64 KiB).
        public var maxBodyBytes: Int
        /// A cached token is renewed this long before it expires (default 30 s), so a handler never gets one that
        /// expires in flight.
        public var refreshMarginSeconds: TimeInterval
        /// The assumed lifetime when the response has no `expires_in` and the token no `exp` (default 60 s).
        public var defaultLifetimeSeconds: TimeInterval
        /// Longest time a token is reused (default 3600 s), whatever its lifetime.
        public var maxCacheSeconds: TimeInterval

        /// Creates limits; every parameter has a default.
        public init(
            maxEntries: Int = 4096, maxBodyBytes: Int = 64 * 1024, refreshMarginSeconds: TimeInterval = 30,
            defaultLifetimeSeconds: TimeInterval = 60, maxCacheSeconds: TimeInterval = 3600
        ) {
            self.maxEntries = maxEntries
            self.maxBodyBytes = maxBodyBytes
            self.refreshMarginSeconds = refreshMarginSeconds
            self.defaultLifetimeSeconds = defaultLifetimeSeconds
            self.maxCacheSeconds = maxCacheSeconds
        }
    }

    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    public static let grantType = "urn:ietf:params:oauth:grant-type:token-exchange"
    /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (Entra on-behalf-of).
    public static let jwtBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    /// `urn:ietf:params:oauth:token-type:access_token`.
    public static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"
    /// `urn:ietf:params:oauth:token-type:jwt`.
    public static let jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"

    /// The issuer whose token endpoint this exchanger uses.
    public let issuer: String
    let settings: TokensConfig.Exchange
    let limits: Limits
    let fetcher: any HTTPFetcher
    let clock: any TokenClock
    let environment: [String: String]

    struct Key: Hashable {
        let subject: Data
        let audience: String
        let scopes: [String]
    }

    private var cache: [Key: (token: DownstreamToken, until: Date)] = [:]
    private var inFlight: [Key: Task<Result<DownstreamToken, TokenExchangeError>, Never>] = [:]
    /// Requests sent to the token endpoint (for tests and metrics).
    public private(set) var requestCount = 0
    /// Calls that joined a request already in flight instead of sending their own (for tests).
    private(set) var joinedCount = 0

    /// Creates an exchanger for `issuer`'s `exchange:` settings.
    public init(
        issuer: String, settings: TokensConfig.Exchange, limits: Limits = Limits(),
        fetcher: any HTTPFetcher, clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.issuer = issuer
        self.settings = settings
        self.limits = limits
        self.fetcher = fetcher
        self.clock = clock
        self.environment = environment
    }

    /// Exchanges `subjectToken` for a token to `audience` with `scopes` (or answers from the cache).
    ///
    /// - Parameter subjectExpiresAt: the caller's token's expiry; a cached answer is not kept past it.
    /// - Throws: ``TokenExchangeError`` (`exchange.invalid_target`, `exchange.invalid_scope`, `exchange.unavailable`, …).
    public func exchange(
        subjectToken: String, audience: String, scopes: [String],
        subjectExpiresAt: Date? = nil
    ) async throws(TokenExchangeError) -> DownstreamToken {
        guard !subjectToken.isEmpty else { throw TokenExchangeError(.noSubjectToken, "no caller token to exchange") }
        var sorted: [String] = []
        for s in scopes.sorted() where sorted.last != s { sorted.append(s) }
        let key = Key(subject: Data(SHA256.hash(data: Data(subjectToken.utf8))), audience: audience, scopes: sorted)
        let now = clock.now()
        if let hit = cache[key] {
            if now < hit.until { return hit.token.markedCached() }
            cache[key] = nil
        }
        let task: Task<Result<DownstreamToken, TokenExchangeError>, Never>
        let leader: Bool
        if let running = inFlight[key] {
            task = running
            leader = false
            joinedCount += 1
        } else {
            task = Task { await self.request(subjectToken: subjectToken, audience: audience, scopes: sorted) }
            inFlight[key] = task
            leader = true
        }
        let result = await task.value
        if leader {
            inFlight[key] = nil
            if case .success(let token) = result { store(key, token, subjectExpiresAt: subjectExpiresAt) }
        }
        switch result {
        case .success(let token): return leader ? token : token.markedCached()
        case .failure(let error): throw error
        }
    }

    /// Drops every cached token (e.g. after a policy reload changed the exchange settings).
    public func removeAll() { cache.removeAll() }

    private func store(_ key: Key, _ token: DownstreamToken, subjectExpiresAt: Date?) {
        let now = clock.now()
        var until = min(
            token.expiresAt.addingTimeInterval(-limits.refreshMarginSeconds),
            now.addingTimeInterval(limits.maxCacheSeconds))
        if let subjectExpiresAt { until = min(until, subjectExpiresAt) }
        guard limits.maxEntries > 0, until > now else { return }
        if cache.count >= limits.maxEntries {
            cache = cache.filter { $0.value.until > now }
            if cache.count >= limits.maxEntries, let victim = cache.min(by: { $0.value.until < $1.value.until })?.key {
                cache[victim] = nil
            }
        }
        cache[key] = (token, until)
    }

    private func request(subjectToken: String, audience: String, scopes: [String]) async -> Result<
        DownstreamToken, TokenExchangeError
    > {
        do {
            return .success(try await send(subjectToken: subjectToken, audience: audience, scopes: scopes))
        } catch {
            return .failure(error)
        }
    }

    private func send(subjectToken: String, audience: String, scopes: [String]) async throws(TokenExchangeError)
        -> DownstreamToken
    {
        guard let url = EndpointPolicy.url(settings.endpoint) else {
            throw TokenExchangeError(.notConfigured, "token exchange endpoint must be https (or http on loopback)")
        }
        var form: [(String, String)]
        switch settings.grant {
        case .tokenExchange:
            form = [
                ("grant_type", Self.grantType),
                ("subject_token", subjectToken),
                ("subject_token_type", settings.subjectTokenType ?? Self.accessTokenType),
                ("requested_token_type", Self.accessTokenType),
            ]
            if settings.target != .resource { form.append(("audience", audience)) }
            if settings.target != .audience { form.append(("resource", audience)) }
        case .onBehalfOf:
            // Microsoft Entra: the downstream API is named by the scopes (`api://x/.default`), not by a parameter.
            form = [
                ("grant_type", Self.jwtBearerGrantType),
                ("assertion", subjectToken),
                ("requested_token_use", "on_behalf_of"),
            ]
        }
        if !scopes.isEmpty { form.append(("scope", scopes.joined(separator: " "))) }
        let client = ClientAuthentication(
            clientID: settings.clientID, secretEnv: settings.clientSecretEnv,
            method: settings.clientAuthentication)
        let request: HTTPRequest
        do {
            request = try client.post(form, to: url, environment: environment, maxResponseBytes: limits.maxBodyBytes)
        } catch {
            throw TokenExchangeError(
                .notConfigured,
                "environment variable `\(settings.clientSecretEnv)` with the token exchange secret is not set")
        }
        requestCount += 1
        let sent = clock.now()
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            throw TokenExchangeError(.unavailable, "token exchange endpoint is unreachable")
        }
        let object = try? StrictJSON.parseObject(response.body, maxDepth: 8)
        guard response.status == 200 else {
            throw Self.error(status: response.status, object: object)
        }
        guard let object else {
            throw TokenExchangeError(.invalidResponse, "token exchange response is not a strict JSON object")
        }
        return try parse(object, audience: audience, scopes: scopes, sent: sent)
    }

    /// Maps a non-200 answer: RFC 6749 §5.2 error JSON on 400/401, anything else (5xx, 429, …) is unavailability.
    static func error(status: Int, object: [String: ClaimValue]?) -> TokenExchangeError {
        guard status == 400 || status == 401 || status == 403, let error = object?["error"]?.stringValue else {
            return TokenExchangeError(.unavailable, "token exchange endpoint answered http \(status)")
        }
        let oauth = String(TokenError.quote(error).dropFirst().dropLast())
        let described = object?["error_description"]?.stringValue.map { ": " + TokenError.quote($0) } ?? ""
        switch error {
        case "invalid_target":
            return TokenExchangeError(
                .invalidTarget, "the authorization server refused the downstream audience" + described,
                oauthError: oauth)
        case "invalid_scope":
            return TokenExchangeError(
                .invalidScope, "the authorization server refused the downstream scopes" + described, oauthError: oauth)
        case "invalid_client":
            return TokenExchangeError(
                .invalidClient, "the authorization server refused this server's client credentials" + described,
                oauthError: oauth)
        case "invalid_grant":
            return TokenExchangeError(
                .invalidGrant, "the authorization server refused the caller's token for exchange" + described,
                oauthError: oauth)
        default:
            return TokenExchangeError(
                .rejected, "the authorization server refused the exchange (`\(oauth)`)" + described, oauthError: oauth)
        }
    }

    func parse(_ object: [String: ClaimValue], audience: String, scopes: [String], sent: Date)
        throws(TokenExchangeError) -> DownstreamToken
    {
        guard let token = object["access_token"]?.stringValue, !token.isEmpty, token.utf8.count <= limits.maxBodyBytes,
            token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw TokenExchangeError(.invalidResponse, "token exchange response has no usable `access_token`")
        }
        // RFC 8693 requires `issued_token_type`; Entra's on-behalf-of responses have none (RFC 6749 §5.1 shape).
        let issuedType: String
        switch object["issued_token_type"] {
        case .string(let t)? where t == Self.accessTokenType || t == Self.jwtTokenType: issuedType = t
        case nil where settings.grant == .onBehalfOf: issuedType = Self.accessTokenType
        default:
            throw TokenExchangeError(
                .invalidResponse, "token exchange response has no access token `issued_token_type`")
        }
        guard let tokenType = object["token_type"]?.stringValue, tokenType.lowercased() == "bearer" else {
            throw TokenExchangeError(.invalidResponse, "token exchange response's `token_type` is not `Bearer`")
        }
        var granted = scopes
        switch object["scope"] {
        case nil, .null?: break
        case .string(let s)?: granted = s.split(separator: " ").map(String.init)
        default: throw TokenExchangeError(.invalidResponse, "token exchange response's `scope` is not a string")
        }
        // The issued token is for the downstream API, not for us: read `jti`/`exp` without verifying, for audit only.
        var jwtClaims: [String: ClaimValue] = [:]
        if token.utf8.filter({ $0 == UInt8(ascii: ".") }).count == 2,
            let jws = try? CompactJWS.parse(token, maxDepth: 8)
        {
            jwtClaims = jws.claims
        }
        let expiresAt: Date
        switch object["expires_in"] {
        case .number(let n)? where n.isFinite && n > 0: expiresAt = sent.addingTimeInterval(n)
        case nil, .null?:
            if case .number(let exp)? = jwtClaims["exp"], exp.isFinite {
                expiresAt = Date(timeIntervalSince1970: exp)
            } else {
                expiresAt = sent.addingTimeInterval(limits.defaultLifetimeSeconds)
            }
        default:
            throw TokenExchangeError(
                .invalidResponse, "token exchange response's `expires_in` is not a positive number")
        }
        return DownstreamToken(
            accessToken: token, issuedTokenType: issuedType, issuer: issuer, audience: audience,
            requestedScopes: scopes, scopes: granted, expiresAt: expiresAt,
            tokenID: jwtClaims["jti"]?.stringValue, cached: false)
    }
}
