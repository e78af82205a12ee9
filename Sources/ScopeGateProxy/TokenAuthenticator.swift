import Foundation
import ScopeGate
import ScopeGateAsyncHTTPClient
import ScopeGateOperations
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Verifies bearer tokens for an ``MCPProxy``: the verified-token cache first, else full verification with the
/// policy's `tokens:` section and resource. The verifier (and the cache) are rebuilt when the policy's token
/// settings or resource change on reload, so a token verified under an old audience is never served.
///
/// ```swift
/// let tokens = TokenAuthenticator(store: store)
/// let proxy = MCPProxy(store: store, configuration: configuration, authenticate: tokens.credential)
/// ```
public final class TokenAuthenticator: Sendable {
    let store: PolicyStore
    let resource: String?
    let staticKeys: [String: JWKSet]
    let keysForEveryIssuer: JWKSet?
    let fetcher: any HTTPFetcher
    /// Each verified token with its grant, resolved against the policy in force when it was last used (a
    /// reloaded policy resolves it again, once).
    let cache: VerifiedTokenCache<Grant>
    let state = LockedValue<Entry?>(nil)
    let metrics: ScopeGateMetrics

    struct Entry {
        let resource: String
        let tokens: TokensConfig
        let verifier: TokenVerifier
        /// The stamp of the last policy the entry was checked against: the same policy needs no comparison.
        var stamp: UInt64
    }

    /// - Parameters:
    ///   - resource: the canonical resource URI (audience); default: the policy's `resource.id`.
    ///   - staticKeys: fixed key sets by issuer instead of fetching JWKS.
    ///   - keysForEveryIssuer: one fixed key set for every issuer of the policy in force, including issuers a
    ///     reloaded policy adds (`--jwks FILE`); `staticKeys` wins for the issuers it names.
    ///   - fetcher: HTTP for JWKS, discovery and introspection (default: AsyncHTTPClient, 5 s per request).
    ///   - metrics: where verifications and cache hits are counted.
    public init(
        store: PolicyStore, resource: String? = nil, staticKeys: [String: JWKSet] = [:],
        keysForEveryIssuer: JWKSet? = nil, capacity: Int = 10_000,
        fetcher: any HTTPFetcher = AsyncHTTPClientFetcher(timeout: .seconds(5)), metrics: ScopeGateMetrics = .init()
    ) {
        self.fetcher = fetcher
        self.metrics = metrics
        self.store = store
        self.resource = resource
        self.staticKeys = staticKeys
        self.keysForEveryIssuer = keysForEveryIssuer
        self.cache = VerifiedTokenCache(capacity: capacity)
    }

    /// The credential of an `Authorization` header, resolved against `policy`.
    @Sendable public func credential(_ header: String?, _ policy: CompiledPolicy) async -> Credential {
        await verify(header, policy).credential
    }

    /// The credential of an `Authorization` header and, when it verified, the token (for its subject and
    /// client; `scopegate authz` passes them on).
    public func verify(_ header: String?, _ policy: CompiledPolicy) async -> (
        credential: Credential, token: VerifiedToken?
    ) {
        // The cache holds only tokens that passed the token68 check, so a hit needs no check of its own.
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return (.missing, nil) }
        let verifier = verifier(for: policy)
        if let hit = cached(token, policy) { return hit }
        guard BearerChallenge.isToken68(token) else { return (.missing, nil) }
        do throws(TokenError) {
            let verified = try await verifier.verify(token)
            metrics.tokenVerified(cached: false, code: nil)
            return (resolveAndCache(token, verified, policy), verified)
        } catch {
            metrics.tokenVerified(cached: false, code: error.code.id)
            return (.invalid(error), nil)
        }
    }

    /// ``verify(_:_:)`` when it needs no waiting: for a header without a bearer token, or with a token in the
    /// verified-token cache; nil when the token must be verified (signature, keys, introspection).
    public func verifyAtOnce(_ header: String?, _ policy: CompiledPolicy) -> (
        credential: Credential, token: VerifiedToken?
    )? {
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return (.missing, nil) }
        _ = verifier(for: policy)  // a changed audience or issuer empties the cache first
        if let hit = cached(token, policy) { return hit }
        return BearerChallenge.isToken68(token) ? nil : (.missing, nil)
    }

    /// A cache hit for `token`, counted.
    private func cached(_ token: String, _ policy: CompiledPolicy) -> (credential: Credential, token: VerifiedToken?)? {
        guard let hit = cache.value(for: token) else { return nil }
        metrics.tokenVerified(cached: true, code: nil)
        guard hit.extra.stamp == policy.stamp else { return (resolveAndCache(token, hit.token, policy), hit.token) }
        return (
            .granted(hit.extra, expiresAt: hit.token.expiresAt, stripPrefixes: hit.token.stripPrefixes), hit.token
        )
    }

    /// The credential of a verified token under `policy`, cached with the grant it resolves to.
    private func resolveAndCache(_ token: String, _ verified: VerifiedToken, _ policy: CompiledPolicy) -> Credential {
        let credential = Credential(verified: verified, policy: policy)
        if case .granted(let grant, _, _) = credential { cache.insert(token, verified: verified, extra: grant) }
        return credential
    }

    /// The verified token of an `Authorization` header (from the cache when it is there), or nil when there is
    /// none or it fails verification: the ``MCPProxy/Identify`` of a proxy. A cache hit is not counted again:
    /// ``credential(_:_:)`` counted this request's verification.
    @Sendable public func verified(_ header: String?, _ policy: CompiledPolicy) async -> VerifiedToken? {
        if let hit = verifiedToken(header) { return hit }
        return await verify(header, policy).token
    }

    func verifier(for policy: CompiledPolicy) -> TokenVerifier {
        let stamp = policy.stamp
        if let known = state.withLock({ $0?.stamp == stamp ? $0?.verifier : nil }) { return known }
        let resource = self.resource ?? policy.model.resource?.id ?? ""
        let tokens = policy.model.tokens ?? TokensConfig(issuers: [])
        var rebuilt = false
        let verifier = state.withLock { entry -> TokenVerifier in
            if let known = entry, known.resource == resource, known.tokens == tokens {
                entry?.stamp = stamp
                return known.verifier
            }
            var keys = staticKeys
            if let every = keysForEveryIssuer {
                for issuer in tokens.issuers where keys[issuer.issuer] == nil { keys[issuer.issuer] = every }
            }
            let verifier = TokenVerifier(config: tokens, resource: resource, staticKeys: keys, fetcher: fetcher)
            rebuilt = entry != nil
            entry = Entry(resource: resource, tokens: tokens, verifier: verifier, stamp: stamp)
            return verifier
        }
        if rebuilt { cache.removeAll() }
        return verifier
    }
}
