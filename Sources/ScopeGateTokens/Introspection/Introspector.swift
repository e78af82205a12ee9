import Crypto
import Foundation
import ScopeGate

/// RFC 7662 token introspection for opaque tokens, with a bounded cache.
///
/// The client authenticates with HTTP Basic (`client_id` and the secret read from the environment variable named
/// by `client_secret_env`; both form-urlencoded first, RFC 6749 §2.3.1). An `active: true` answer is then checked
/// like a JWT's claims: `iss` (when present) must be the issuer, `aud` must contain an accepted audience, `exp`/`nbf`/
/// `iat` with the leeway, no `cnf`. Results are cached by SHA-256 of the token until `exp` (at most
/// ``Limits/maxCacheSeconds``); `active: false` is cached for ``Limits/negativeCacheSeconds``. Any transport or
/// protocol problem is `token.introspection_failed` (fail closed, not cached).
///
/// ```swift
/// // policy: tokens: { issuers: [{ issuer: …, introspection: { endpoint: …, client_id: …, client_secret_env: … } }] }
/// let verifier = TokenVerifier(config: tokens, resource: resource, fetcher: fetcher)   // builds its introspector
/// let token = try await verifier.verify(opaqueToken)                 // no dots: introspected, cached until `exp`
/// ```
public actor Introspector {
    /// Cache bounds.
    ///
    /// ```swift
    /// var options = TokenVerifier.Options()
    /// options.introspection.negativeCacheSeconds = 5               // re-ask sooner about inactive tokens
    /// let verifier = TokenVerifier(config: tokens, resource: resource, options: options, fetcher: fetcher)
    /// ```
    public struct Limits: Sendable, Hashable {
        /// Most cached answers (default 4096); the entry closest to expiry (then the oldest) is evicted first.
        public var maxEntries: Int
        /// Longest time an active answer is reused (default 300 s), even if `exp` is later.
        public var maxCacheSeconds: TimeInterval
        /// How long an inactive answer is reused (default 30 s).
        public var negativeCacheSeconds: TimeInterval
        /// Largest accepted response body (default 64 KiB).
        public var maxBodyBytes: Int

        /// Creates limits; every parameter has a default.
        public init(
            maxEntries: Int = 4096, maxCacheSeconds: TimeInterval = 300, negativeCacheSeconds: TimeInterval = 30,
            maxBodyBytes: Int = 64 * 1024
        ) {
            self.maxEntries = maxEntries
            self.maxCacheSeconds = maxCacheSeconds
            self.negativeCacheSeconds = negativeCacheSeconds
            self.maxBodyBytes = maxBodyBytes
        }
    }

    let issuer: String
    let settings: TokensConfig.Introspection
    let audiences: [String]
    let profile: ScopeProfile
    let stripPrefixes: [String]
    let checks: ClaimChecks
    let limits: Limits
    let fetcher: any HTTPFetcher
    let environment: [String: String]

    private enum Answer {
        case active(VerifiedToken)
        case inactive
    }
    private var cache: [Data: (answer: Answer, until: Date, seq: Int)] = [:]
    private var sequence = 0
    /// Number of requests sent to the endpoint (for tests and metrics).
    public private(set) var requestCount = 0

    init(
        issuer: String, settings: TokensConfig.Introspection, audiences: [String], profile: ScopeProfile,
        stripPrefixes: [String], checks: ClaimChecks, limits: Limits, fetcher: any HTTPFetcher,
        environment: [String: String]
    ) {
        self.issuer = issuer
        self.settings = settings
        self.audiences = audiences
        self.profile = profile
        self.stripPrefixes = stripPrefixes
        self.checks = checks
        self.limits = limits
        self.fetcher = fetcher
        self.environment = environment
    }

    /// Introspects `token` (or answers from the cache).
    ///
    /// - Throws: `token.inactive`, `token.introspection_failed`, or a claim error (`token.expired`, `token.audience_*`, …).
    public func introspect(_ token: String) async throws(TokenError) -> VerifiedToken {
        let key = Data(SHA256.hash(data: Data(token.utf8)))
        let now = checks.clock.now()
        if let hit = cache[key] {
            if now < hit.until {
                switch hit.answer {
                case .active(let verified): return verified
                case .inactive: throw TokenError(.inactive, "token is not active")
                }
            }
            cache[key] = nil
        }
        do {
            let verified = try await ask(token)
            let until = min(verified.expiresAt, now.addingTimeInterval(limits.maxCacheSeconds))
            store(key, .active(verified), until: until, now: now)
            return verified
        } catch  where error.code == .inactive {
            store(key, .inactive, until: now.addingTimeInterval(limits.negativeCacheSeconds), now: now)
            throw error
        }
    }

    private func store(_ key: Data, _ answer: Answer, until: Date, now: Date) {
        guard limits.maxEntries > 0 else { return }
        if cache.count >= limits.maxEntries {
            cache = cache.filter { $0.value.until > now }
            if cache.count >= limits.maxEntries,
                let victim = cache.min(by: { ($0.value.until, $0.value.seq) < ($1.value.until, $1.value.seq) })?.key
            {
                cache[victim] = nil
            }
        }
        sequence += 1
        cache[key] = (answer, until, sequence)
    }

    private func ask(_ token: String) async throws(TokenError) -> VerifiedToken {
        guard let url = EndpointPolicy.url(settings.endpoint) else {
            throw TokenError(.introspectionFailed, "introspection endpoint must be https (or http on loopback)")
        }
        let form = [("token", token), ("token_type_hint", "access_token")]
        let client = ClientAuthentication(
            clientID: settings.clientID, secretEnv: settings.clientSecretEnv, method: .basic)
        let request: HTTPRequest
        do {
            request = try client.post(form, to: url, environment: environment, maxResponseBytes: limits.maxBodyBytes)
        } catch {
            throw TokenError(
                .introspectionFailed,
                "environment variable `\(settings.clientSecretEnv)` with the introspection secret is not set")
        }
        requestCount += 1
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            throw TokenError(.introspectionFailed, "introspection endpoint is unreachable")
        }
        guard response.status == 200 else {
            throw TokenError(.introspectionFailed, "introspection endpoint answered http \(response.status)")
        }
        let claims: [String: ClaimValue]
        do {
            claims = try StrictJSON.parseObject(response.body, maxDepth: 16)
        } catch {
            throw TokenError(.introspectionFailed, "introspection response is not a strict JSON object")
        }
        guard case .bool(true)? = claims["active"] else { throw TokenError(.inactive, "token is not active") }
        if let iss = claims["iss"] {
            guard iss.stringValue == issuer else {
                throw TokenError(.issuerUntrusted, "introspected token has another issuer")
            }
        }
        let fallback = checks.clock.now().addingTimeInterval(limits.maxCacheSeconds)
        let expiresAt = try checks.checkTimes(claims, requireExp: false, fallbackExpiry: fallback)
        let auds = try checks.checkAudience(claims, accepted: audiences)
        if claims["cnf"] != nil {
            throw TokenError(.dpopUnsupported, "token is bound to a key (`cnf`); proof-of-possession is not supported")
        }
        return try checks.makeVerified(
            claims: claims, issuer: issuer, audiences: auds, expiresAt: expiresAt,
            profile: profile, stripPrefixes: stripPrefixes)
    }
}
