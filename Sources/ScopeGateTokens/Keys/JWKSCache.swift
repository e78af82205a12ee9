import Foundation

/// A lazily fetched, cached JWKS for one issuer.
///
/// - Fetches on first use (never at start-up), from `jwksURI` or, when that is `nil`, from the `jwks_uri` found
///   by discovery: `{issuer}/.well-known/openid-configuration`, then RFC 8414
///   `https://host/.well-known/oauth-authorization-server{path}`. The discovery document's `issuer` must equal the
///   configured issuer exactly.
/// - Keeps a set for `Cache-Control: max-age` clamped to ``Policy/minMaxAge``…``Policy/maxMaxAge``
///   (``Policy/defaultMaxAge`` without the header; `no-store`/`no-cache` count as the minimum).
/// - An unknown `kid` triggers at most one refresh per ``Policy/unknownKidRefreshInterval`` (no refresh storms);
///   concurrent refreshes are coalesced into one request.
/// - When a refresh fails the last good set keeps serving, retried at most once per ``Policy/failureRetryInterval``,
///   until it is ``Policy/maxStaleness`` past its expiry: then verification fails closed (`token.keys_unavailable`).
/// - Only `https` URLs, or `http` to a loopback address; bodies are capped at ``Policy/maxBodyBytes``.
///
/// ```swift
/// let cache = JWKSCache(issuer: "https://auth.example.com", jwksURI: nil, fetcher: fetcher)   // nil: discovered
/// let keys = try await cache.keySet()                          // fetched on first use, then cached
/// ```
public actor JWKSCache {
    /// Timing and size limits of the cache.
    ///
    /// ```swift
    /// var policy = JWKSCache.Policy()
    /// policy.unknownKidRefreshInterval = 60                        // at most one refresh a minute for unknown `kid`s
    /// let cache = JWKSCache(issuer: issuer, jwksURI: jwksURI, policy: policy, fetcher: fetcher)
    /// ```
    public struct Policy: Sendable, Hashable {
        /// Lifetime of a set fetched without `Cache-Control: max-age` (default 300 s).
        public var defaultMaxAge: TimeInterval
        /// Lower bound for `max-age` (default 60 s).
        public var minMaxAge: TimeInterval
        /// Upper bound for `max-age` (default 24 h).
        public var maxMaxAge: TimeInterval
        /// Minimum time between two refreshes triggered by an unknown `kid` (default 60 s).
        public var unknownKidRefreshInterval: TimeInterval
        /// Minimum time between attempts after a failed fetch (default 10 s).
        public var failureRetryInterval: TimeInterval
        /// How long past its expiry a set may still be used while the endpoint fails (default 1 h).
        public var maxStaleness: TimeInterval
        /// Largest accepted JWKS or discovery body (default 256 KiB).
        public var maxBodyBytes: Int

        /// Creates a policy; every parameter has a conservative default.
        public init(
            defaultMaxAge: TimeInterval = 300, minMaxAge: TimeInterval = 60, maxMaxAge: TimeInterval = 86_400,
            unknownKidRefreshInterval: TimeInterval = 60, failureRetryInterval: TimeInterval = 10,
            maxStaleness: TimeInterval = 3_600, maxBodyBytes: Int = JWKSet.defaultMaxBytes
        ) {
            self.defaultMaxAge = defaultMaxAge
            self.minMaxAge = minMaxAge
            self.maxMaxAge = maxMaxAge
            self.unknownKidRefreshInterval = unknownKidRefreshInterval
            self.failureRetryInterval = failureRetryInterval
            self.maxStaleness = maxStaleness
            self.maxBodyBytes = maxBodyBytes
        }
    }

    /// The issuer this cache serves.
    public let issuer: String
    let configuredJWKSURI: String?
    let policy: Policy
    let fetcher: any HTTPFetcher
    let clock: any TokenClock

    private var current: JWKSet?
    private var freshUntil: Date = .distantPast
    private var lastAttempt: Date?
    private var lastFailure: Date?
    private var lastError: TokenError?
    private var resolvedURI: URL?
    private var inFlight: Task<Void, Never>?
    /// Number of HTTP requests made (JWKS and discovery), for tests and metrics.
    public private(set) var fetchCount = 0

    /// Creates a cache; nothing is fetched until the first ``keySet()``.
    public init(
        issuer: String, jwksURI: String?, policy: Policy = Policy(),
        fetcher: any HTTPFetcher, clock: any TokenClock = SystemTokenClock()
    ) {
        self.issuer = issuer
        self.configuredJWKSURI = jwksURI
        self.policy = policy
        self.fetcher = fetcher
        self.clock = clock
    }

    /// The current key set, fetching or refreshing it when it has expired.
    ///
    /// - Throws: `token.keys_unavailable` when no set was ever fetched or the last good one is too stale.
    public func keySet() async throws(TokenError) -> JWKSet {
        if let current, clock.now() < freshUntil { return current }
        if mayAttempt(minimumGap: 0) { await refresh() }
        return try usableSet()
    }

    /// The key set after one refresh for an unknown `kid`, unless a fetch happened within
    /// ``Policy/unknownKidRefreshInterval`` (then the current set, unchanged).
    ///
    /// - Throws: `token.keys_unavailable` as ``keySet()``.
    public func keySet(refreshingForUnknownKid kid: String) async throws(TokenError) -> JWKSet {
        if mayAttempt(minimumGap: policy.unknownKidRefreshInterval) { await refresh() }
        return try usableSet()
    }

    private func mayAttempt(minimumGap: TimeInterval) -> Bool {
        let now = clock.now()
        // A negative gap means the clock stepped back: count the interval as elapsed rather than waiting for the
        // clock to catch up (which would block retries and key rotation for as long as the step).
        func within(_ since: Date?, _ interval: TimeInterval) -> Bool {
            guard let since else { return false }
            let gap = now.timeIntervalSince(since)
            return gap >= 0 && gap < interval
        }
        if within(lastFailure, policy.failureRetryInterval) { return false }
        if within(lastAttempt, minimumGap) { return false }
        return true
    }

    private func usableSet() throws(TokenError) -> JWKSet {
        guard let current else {
            throw lastError ?? TokenError(.keysUnavailable, "signing keys of the issuer are unavailable")
        }
        if clock.now() < freshUntil.addingTimeInterval(policy.maxStaleness) { return current }
        throw TokenError(.keysUnavailable, "signing keys of the issuer are stale and cannot be refreshed")
    }

    private func refresh() async {
        if let inFlight {
            await inFlight.value
            return
        }
        let task = Task { await self.performFetch() }
        inFlight = task
        await task.value
        inFlight = nil
    }

    private func performFetch() async {
        let now = clock.now()
        lastAttempt = now
        do throws(TokenError) {
            let url = try await jwksURL()
            let response = try await get(url)
            guard response.status == 200 else {
                resolvedURI = nil
                throw TokenError(.keysUnavailable, "jwks endpoint answered http \(response.status)")
            }
            let set = try await JWKSet.parse(response.body, maxBytes: policy.maxBodyBytes)
            current = set
            freshUntil = clock.now().addingTimeInterval(maxAge(response.value(forHeader: "Cache-Control")))
            lastFailure = nil
            lastError = nil
        } catch {
            lastFailure = now
            lastError = error
        }
    }

    /// The lifetime granted by a `Cache-Control` header, clamped to the policy bounds.
    func maxAge(_ header: String?) -> TimeInterval {
        guard let header else { return policy.defaultMaxAge }
        var age: TimeInterval?
        for part in header.split(separator: ",") {
            let directive = part.trimmingCharacters(in: .whitespaces).lowercased()
            if directive == "no-store" || directive == "no-cache" { return policy.minMaxAge }
            if directive.hasPrefix("max-age="),
                let n = Int(directive.dropFirst(8).trimmingCharacters(in: CharacterSet(charactersIn: "\""))), n >= 0
            {
                age = TimeInterval(n)
            }
        }
        return min(max(age ?? policy.defaultMaxAge, policy.minMaxAge), policy.maxMaxAge)
    }

    private func get(_ url: URL) async throws(TokenError) -> HTTPResponse {
        fetchCount += 1
        do {
            return try await fetcher.fetch(
                HTTPRequest(url: url, headers: ["Accept": "application/json"], maxResponseBytes: policy.maxBodyBytes))
        } catch {
            throw TokenError(.keysUnavailable, "cannot fetch signing keys of the issuer")
        }
    }

    private func jwksURL() async throws(TokenError) -> URL {
        if let configuredJWKSURI {
            guard let url = EndpointPolicy.url(configuredJWKSURI) else {
                throw TokenError(.keysUnavailable, "jwks_uri must be https (or http on loopback)")
            }
            return url
        }
        if let resolvedURI { return resolvedURI }
        let url = try await discover()
        resolvedURI = url
        return url
    }

    /// Discovery URLs for the issuer, in the order tried.
    static func discoveryURLs(issuer: String) -> [URL] {
        var urls: [URL] = []
        var trimmed = issuer
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if let oidc = URL(string: trimmed + "/.well-known/openid-configuration") { urls.append(oidc) }
        if var components = URLComponents(string: trimmed) {
            let path = components.path
            components.path = "/.well-known/oauth-authorization-server" + (path == "/" ? "" : path)
            if let rfc8414 = components.url { urls.append(rfc8414) }
        }
        return urls
    }

    private func discover() async throws(TokenError) -> URL {
        guard let issuerURL = URL(string: issuer), EndpointPolicy.isAllowed(issuerURL) else {
            throw TokenError(.keysUnavailable, "issuer must be https (or http on loopback) for discovery")
        }
        for url in Self.discoveryURLs(issuer: issuer) {
            guard let response = try? await get(url), response.status == 200,
                let doc = try? StrictJSON.parseObject(response.body, maxDepth: 8)
            else { continue }
            guard doc["issuer"]?.stringValue == issuer else {
                throw TokenError(.keysUnavailable, "discovery document names another issuer")
            }
            guard let jwks = doc["jwks_uri"]?.stringValue, let jwksURL = EndpointPolicy.url(jwks) else {
                throw TokenError(.keysUnavailable, "discovery document has no usable jwks_uri")
            }
            return jwksURL
        }
        throw TokenError(.keysUnavailable, "no discovery document found for the issuer")
    }
}
