import Foundation
import ScopeGate

/// Verifies bearer tokens against a policy's `tokens:` section.
///
/// JWTs (compact JWS) are checked in this order, each failure a ``TokenError`` with its own code:
/// 1. size (before any parsing, ``Options/maxTokenBytes``), shape and strict base64url; header and claims parsed
///    with duplicate-key and nesting checks;
/// 2. header: `alg` present and not `none`; no `crit`; no header-supplied keys (`jwk`, `jku`, `x5u`, `x5c`: refused,
///    never fetched); `typ` when `require_typ` is set (`at+jwt` also accepts `application/at+jwt`);
/// 3. `iss` exactly one configured issuer; `alg` in that issuer's allow-list;
/// 4. key: by `kid` (required when the set has several keys); an unknown `kid` causes at most one rate-limited JWKS
///    refresh and never falls back to another key; the `alg` must fit the key's own `alg`, type and curve;
/// 5. signature (jwt-kit's algorithm implementations, via keys built by ``JWKSet``);
/// 6. claims: `exp` required, `exp`/`nbf`/`iat` with the leeway (an `iat` in the future is refused), `aud` (string or
///    array) contains an accepted audience, and no `cnf` (proof-of-possession is not configured).
///
/// Opaque tokens (no dots) go to RFC 7662 introspection when an issuer configures it (the first such issuer).
/// The verifier is a value; the JWKS caches and introspection cache it holds are actors shared by its copies.
///
/// ```swift
/// let policy = try PolicyCompiler().compile(path: "policy.yaml").compiled()
/// let verifier = TokenVerifier(                                // fetcher: e.g. URLSessionFetcher() (ScopeGateURLSession)
///     config: policy.model.tokens ?? TokensConfig(issuers: []), resource: "https://mcp.example.com/mcp",
///     fetcher: fetcher)
/// do {
///     let token = try await verifier.verify(bearer)            // the credential without `Bearer `
///     let grant = policy.grant(token.scopes, stripPrefixes: token.stripPrefixes)
/// } catch {
///     print(error.code)                                        // e.g. `token.expired`: answer 401 invalid_token
/// }
/// ```
public struct TokenVerifier: Sendable {
    /// Limits and cache settings.
    ///
    /// ```swift
    /// var options = TokenVerifier.Options()
    /// options.maxTokenBytes = 8 * 1024
    /// options.jwks.maxStaleness = 3600
    /// let verifier = TokenVerifier(config: tokens, resource: resource, options: options, fetcher: fetcher)
    /// ```
    public struct Options: Sendable, Hashable {
        /// Longest accepted token in bytes (default 16 KiB).
        public var maxTokenBytes: Int
        /// Deepest accepted JSON nesting in header and claims (default 16).
        public var maxJSONDepth: Int
        /// JWKS cache policy for issuers whose keys are fetched.
        public var jwks: JWKSCache.Policy
        /// Introspection cache bounds.
        public var introspection: Introspector.Limits

        /// Creates options; every parameter has a default.
        public init(
            maxTokenBytes: Int = 16 * 1024, maxJSONDepth: Int = 16, jwks: JWKSCache.Policy = .init(),
            introspection: Introspector.Limits = .init()
        ) {
            self.maxTokenBytes = maxTokenBytes
            self.maxJSONDepth = maxJSONDepth
            self.jwks = jwks
            self.introspection = introspection
        }
    }

    /// Where an issuer's keys come from: a fixed set (`--jwks FILE`, tests) or a JWKS cache.
    ///
    /// A struct of two optionals rather than a two-case enum on purpose: Swift stores a multi-payload enum's case
    /// in the spare bits of a class reference, and LeakSanitizer, which cannot see such tagged pointers, then
    /// reports every live ``JWKSCache`` as leaked (`docs/reliability.md`, LeakSanitizer).
    struct KeySource: Sendable {
        private let fixedSet: JWKSet?
        private let cache: JWKSCache?

        static func fixed(_ set: JWKSet) -> KeySource { KeySource(fixedSet: set, cache: nil) }
        static func cache(_ cache: JWKSCache) -> KeySource { KeySource(fixedSet: nil, cache: cache) }

        func current() async throws(TokenError) -> JWKSet {
            if let cache { return try await cache.keySet() }
            return fixedSet ?? JWKSet(keys: [], ignoredCount: 0)
        }

        func refreshed(kid: String) async throws(TokenError) -> JWKSet {
            if let cache { return try await cache.keySet(refreshingForUnknownKid: kid) }
            return fixedSet ?? JWKSet(keys: [], ignoredCount: 0)
        }
    }

    struct IssuerContext: Sendable {
        let issuer: String
        let algorithms: Set<String>
        let audiences: [String]
        let profile: ScopeProfile
        let stripPrefixes: [String]
        let keys: KeySource
    }

    let issuers: [String: IssuerContext]
    let introspector: Introspector?
    let checks: ClaimChecks
    let requireTyp: String?
    let options: Options

    /// Builds a verifier.
    ///
    /// - Parameters:
    ///   - config: the policy's `tokens:` section (with `${VAR}` already substituted).
    ///   - resource: the protected resource id (`resource.id`), the accepted audience of issuers that list none.
    ///   - options: size limits and cache settings.
    ///   - staticKeys: fixed key sets by issuer (e.g. from ``JWKSet/load(contentsOfFile:maxBytes:)``); other issuers
    ///     get a lazily fetching ``JWKSCache``.
    ///   - fetcher: HTTP for JWKS, discovery and introspection.
    ///   - clock: the time source for every check.
    ///   - environment: where introspection client secrets are read (by the variable name in the policy).
    public init(
        config: TokensConfig, resource: String, options: Options = Options(), staticKeys: [String: JWKSet] = [:],
        fetcher: any HTTPFetcher, clock: any TokenClock = SystemTokenClock(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        var issuers: [String: IssuerContext] = [:]
        var introspector: Introspector?
        let checks = ClaimChecks(leeway: TimeInterval(max(0, config.leewaySeconds)), clock: clock)
        for issuer in config.issuers {
            let profile = ScopeProfile(claims: issuer.scopeClaims ?? config.scopeClaims, roles: issuer.roles)
            let audiences = issuer.audiences.isEmpty ? [resource] : issuer.audiences
            let source: KeySource
            if let fixed = staticKeys[issuer.issuer] {
                source = .fixed(fixed)
            } else {
                source = .cache(
                    JWKSCache(
                        issuer: issuer.issuer, jwksURI: issuer.jwksURI, policy: options.jwks,
                        fetcher: fetcher, clock: clock))
            }
            if issuers[issuer.issuer] == nil {
                issuers[issuer.issuer] = IssuerContext(
                    issuer: issuer.issuer, algorithms: Set(issuer.algorithms), audiences: audiences,
                    profile: profile, stripPrefixes: issuer.stripPrefixes, keys: source)
            }
            if introspector == nil, let settings = issuer.introspection {
                introspector = Introspector(
                    issuer: issuer.issuer, settings: settings, audiences: audiences, profile: profile,
                    stripPrefixes: issuer.stripPrefixes, checks: checks, limits: options.introspection,
                    fetcher: fetcher, environment: environment)
            }
        }
        self.issuers = issuers
        self.introspector = introspector
        self.checks = checks
        self.requireTyp = config.requireTyp.map(Self.normalizeTyp)
        self.options = options
    }

    static func normalizeTyp(_ typ: String) -> String {
        let lower = typ.lowercased()
        return lower.hasPrefix("application/") ? String(lower.dropFirst("application/".count)) : lower
    }

    /// Verifies `token` (the bearer credential without the `Bearer ` prefix).
    ///
    /// - Returns: the verified token with its granted scopes.
    /// - Throws: ``TokenError`` naming the first check that failed (see the type's documentation for the order).
    public func verify(_ token: String) async throws(TokenError) -> VerifiedToken {
        guard token.utf8.count <= options.maxTokenBytes else {
            throw TokenError(.tooLarge, "token is larger than \(options.maxTokenBytes) bytes")
        }
        guard !token.isEmpty else { throw TokenError(.malformed, "empty token") }
        var contiguous = token
        let hasDot = contiguous.withUTF8 { bytes in
            bytes.baseAddress.map { memchr($0, Int32(UInt8(ascii: ".")), bytes.count) != nil } ?? false
        }
        if !hasDot {
            guard let introspector else {
                throw TokenError(.opaqueUnsupported, "opaque token and no introspection configured")
            }
            return try await introspector.introspect(token)
        }
        let jws = try CompactJWS.parse(token, maxDepth: options.maxJSONDepth)
        let (alg, kid) = try checkHeader(jws.header)

        guard case .string(let iss)? = jws.claims["iss"] else {
            throw TokenError(.issuerUntrusted, "token has no `iss` claim")
        }
        guard let context = issuers[iss] else {
            throw TokenError(.issuerUntrusted, "issuer \(TokenError.quote(iss)) is not trusted")
        }
        guard context.algorithms.contains(alg) else {
            throw TokenError(.algNotAllowed, "algorithm \(TokenError.quote(alg)) is not allowed for this issuer")
        }

        let key = try await selectKey(context: context, kid: kid, alg: alg)
        guard let verifier = key.verifiers[alg] else {
            throw TokenError(.algKeyMismatch, "algorithm \(TokenError.quote(alg)) does not fit the key")
        }
        let valid: Bool
        do {
            valid = try !jws.signature.isEmpty && verifier.verify(jws.signature, signs: jws.signingInput)
        } catch {
            valid = false
        }
        guard valid else { throw TokenError(.badSignature, "signature does not verify") }

        let expiresAt = try checks.checkTimes(jws.claims)
        let audiences = try checks.checkAudience(jws.claims, accepted: context.audiences)
        if jws.claims["cnf"] != nil {
            throw TokenError(.dpopUnsupported, "token is bound to a key (`cnf`); proof-of-possession is not supported")
        }
        return try checks.makeVerified(
            claims: jws.claims, issuer: iss, audiences: audiences, expiresAt: expiresAt,
            profile: context.profile, stripPrefixes: context.stripPrefixes)
    }

    /// Header rules; returns `alg` and `kid`.
    ///
    /// One pass over the header's members (no hashing per parameter name); the checks then run in a fixed order,
    /// so a header with several problems always gets the same error.
    func checkHeader(_ header: [String: ClaimValue]) throws(TokenError) -> (String, String?) {
        var algValue: ClaimValue?
        var kidValue: ClaimValue?
        var typValue: ClaimValue?
        var hasCrit = false
        var headerKeys: UInt8 = 0  // jwk, jku, x5u, x5c as bits 0-3
        for (name, value) in header {
            switch name {
            case "alg": algValue = value
            case "kid": kidValue = value
            case "typ": typValue = value
            case "crit": hasCrit = true
            case "jwk": headerKeys |= 1
            case "jku": headerKeys |= 2
            case "x5u": headerKeys |= 4
            case "x5c": headerKeys |= 8
            default: break
            }
        }
        guard case .string(let alg)? = algValue else { throw TokenError(.malformed, "header has no `alg`") }
        if alg.lowercased() == "none" { throw TokenError(.algNone, "unsigned tokens (`alg: none`) are refused") }
        if hasCrit { throw TokenError(.critUnsupported, "critical header extensions are not supported") }
        if headerKeys != 0 {
            let name = headerKeys & 1 != 0 ? "jwk" : headerKeys & 2 != 0 ? "jku" : headerKeys & 4 != 0 ? "x5u" : "x5c"
            throw TokenError(
                .headerKeyRefused, "header parameter `\(name)` is refused; keys come only from the issuer's jwks")
        }
        if let requireTyp {
            guard case .string(let typ)? = typValue, Self.normalizeTyp(typ) == requireTyp else {
                throw TokenError(.typMismatch, "header `typ` must be `\(requireTyp)`")
            }
        }
        switch kidValue {
        case nil: return (alg, nil)
        case .string(let kid)?: return (alg, kid)
        default: throw TokenError(.malformed, "header `kid` is not a string")
        }
    }

    func selectKey(context: IssuerContext, kid: String?, alg: String) async throws(TokenError) -> JWKSet.Key {
        var set = try await context.keys.current()
        guard let kid else {
            if set.keys.count == 1, let only = set.keys.first { return only }
            if set.keys.isEmpty { throw TokenError(.keysUnavailable, "the issuer's key set is empty") }
            throw TokenError(.kidRequired, "token has no `kid` and the issuer has several keys")
        }
        var candidates = set.keys(withID: kid)
        if candidates.isEmpty {
            set = try await context.keys.refreshed(kid: kid)
            candidates = set.keys(withID: kid)
        }
        guard !candidates.isEmpty else {
            throw TokenError(.unknownKid, "no key with `kid` \(TokenError.quote(kid)) in the issuer's key set")
        }
        return candidates.first { $0.verifiers[alg] != nil } ?? candidates[0]
    }
}

/// Claim checks shared by JWT verification and introspection.
struct ClaimChecks: Sendable {
    let leeway: TimeInterval
    let clock: any TokenClock

    static func numericDate(_ claims: [String: ClaimValue], _ name: String) throws(TokenError) -> Date? {
        switch claims[name] {
        case nil: return nil
        case .number(let n)? where n.isFinite: return Date(timeIntervalSince1970: n)
        default: throw TokenError(.claimInvalid, "claim `\(name)` is not a number")
        }
    }

    /// `exp` (required), `nbf`, `iat`; returns the expiry.
    func checkTimes(_ claims: [String: ClaimValue], requireExp: Bool = true, fallbackExpiry: Date? = nil)
        throws(TokenError) -> Date
    {
        let now = clock.now()
        let exp = try Self.numericDate(claims, "exp")
        guard let expiry = exp ?? (requireExp ? nil : fallbackExpiry) else {
            throw TokenError(.claimMissing, "token has no `exp` claim")
        }
        if now.timeIntervalSince(expiry) >= leeway { throw TokenError(.expired, "token has expired") }
        if let nbf = try Self.numericDate(claims, "nbf"), nbf.timeIntervalSince(now) > leeway {
            throw TokenError(.notYetValid, "token is not valid yet (`nbf`)")
        }
        if let iat = try Self.numericDate(claims, "iat"), iat.timeIntervalSince(now) > leeway {
            throw TokenError(.issuedInFuture, "token was issued in the future (`iat`)")
        }
        return expiry
    }

    /// `aud` contains one of `accepted`; returns all audiences.
    func checkAudience(_ claims: [String: ClaimValue], accepted: [String]) throws(TokenError) -> [String] {
        let audiences: [String]
        switch claims["aud"] {
        case nil: throw TokenError(.audienceMissing, "token has no `aud` claim")
        case .string(let s)?: audiences = [s]
        case .array(let a)?:
            var list: [String] = []
            for v in a {
                guard case .string(let s) = v else {
                    throw TokenError(.claimInvalid, "claim `aud` has a non-string member")
                }
                list.append(s)
            }
            audiences = list
        default: throw TokenError(.claimInvalid, "claim `aud` is not a string or array")
        }
        guard audiences.contains(where: accepted.contains) else {
            throw TokenError(.audienceMismatch, "token is not for this resource (`aud`)")
        }
        return audiences
    }

    func makeVerified(
        claims: [String: ClaimValue], issuer: String, audiences: [String], expiresAt: Date,
        profile: ScopeProfile, stripPrefixes: [String]
    ) throws(TokenError) -> VerifiedToken {
        func optionalString(_ name: String) throws(TokenError) -> String? {
            switch claims[name] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            default: throw TokenError(.claimInvalid, "claim `\(name)` is not a string")
            }
        }
        var client = try optionalString("client_id")
        if client == nil { client = try optionalString("azp") }
        if client == nil { client = try optionalString("appid") }
        if client == nil { client = try optionalString("cid") }
        return VerifiedToken(
            issuer: issuer, subject: try optionalString("sub"), clientID: client, audiences: audiences,
            scopes: profile.scopes(from: claims), stripPrefixes: stripPrefixes, jwtID: try optionalString("jti"),
            expiresAt: expiresAt, claims: .object(claims))
    }
}
