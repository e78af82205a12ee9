import Foundation
import Logging
import ScopeGate
import ScopeGateOperations
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// The MCP-facing authorization engine: verifies bearer tokens (cached), decides calls against the policy in
/// force, writes one audit event and metrics per decision, and builds the RFC 6750 / RFC 9728 responses.
///
/// Framework-agnostic: ``MCPHTTPGateway`` uses it in front of the SDK's HTTP transports, and
/// ``MCP/Server/withAuthorizedTools(_:tools:caller:handler:)`` uses it inside handlers (stdio or HTTP).
///
/// ```swift
/// let authorizer = try MCPAuthorizer(policyPath: "policies/climate.yaml")
/// switch await authorizer.authenticate(authorization: request.header("Authorization")) {
/// case .authenticated(let caller):
///     let outcome = authorizer.decide(Call(method: "tools/call", name: "read_client"), caller: caller)
///     if !outcome.decision.allowed { print("needs", outcome.missing) }
/// case .missing, .invalid:
///     print(authorizer.unauthorizedChallenge(for: nil, error: nil))
/// }
/// ```
public final class MCPAuthorizer: Sendable {
    /// The policy in force (reload it with ``PolicyStore/reload(path:)`` or ``PolicyReloader``).
    public let store: PolicyStore
    /// The configuration given at creation.
    public let configuration: ScopeGateMCPConfiguration
    let cache: VerifiedTokenCache<Caller>
    let metrics: ScopeGateMetrics
    /// Audit events (to ``ScopeGateMCPConfiguration/auditLogger`` and `auditSink`) and decision metrics.
    let reporter: DecisionReporter
    let fetcher: MeteredFetcher
    private let verifierState = LockedValue<VerifierEntry?>(nil)
    /// Token exchangers by issuer, rebuilt when the tokens settings change (see MCPAuthorizer+Downstream.swift).
    let exchangers: TokenExchangers

    struct VerifierEntry {
        let resource: String
        let tokens: TokensConfig
        let verifier: TokenVerifier
    }

    /// Creates an authorizer over `store`.
    public init(store: PolicyStore, configuration: ScopeGateMCPConfiguration = .init()) {
        self.store = store
        self.configuration = configuration
        self.cache = VerifiedTokenCache(capacity: configuration.tokenCacheCapacity, clock: configuration.clock)
        let metrics = ScopeGateMetrics()
        self.metrics = metrics
        let logger = configuration.auditLogger
        let extra = configuration.auditSink
        let clock = configuration.clock
        // Building an event re-explains the decision: skip it when nobody listens.
        var sink: (@Sendable (AuditEvent) -> Void)?
        if extra != nil || logger.logLevel <= .info {
            sink = { event in
                logger.info("\(event.json)")
                extra?(event)
            }
        }
        self.reporter = DecisionReporter(audit: nil, sink: sink, metrics: metrics, now: { clock.now() })
        self.fetcher = MeteredFetcher(base: configuration.fetcher, metrics: metrics)
        self.exchangers = TokenExchangers(
            limits: configuration.exchangeLimits, fetcher: fetcher, clock: configuration.clock,
            environment: configuration.environment)
    }

    /// Loads and compiles the policy at `path` and creates an authorizer; throws every diagnostic of a bad policy.
    public convenience init(policyPath: String, configuration: ScopeGateMCPConfiguration = .init()) throws(PolicyError)
    {
        self.init(store: try PolicyStore(path: policyPath), configuration: configuration)
    }

    // MARK: resource

    /// The canonical resource URI in force: the configured override, else the policy's `resource.id`.
    public func resourceID(_ snapshot: PolicySnapshot? = nil) -> String? {
        configuration.resource ?? (snapshot ?? store.current).policy.model.resource?.id
    }

    /// The Protected Resource Metadata URL (RFC 9728 path form) of the resource in force.
    public func resourceMetadataURL(_ snapshot: PolicySnapshot? = nil) -> String? {
        resourceID(snapshot).flatMap(BearerChallenge.metadataURL(forResource:))
    }

    // MARK: tokens

    /// The outcome of authenticating a request.
    ///
    /// ```swift
    /// if case .invalid(let error) = await authorizer.authenticate(authorization: header) { print(error.code) }
    /// ```
    public enum Authentication: Sendable {
        /// A valid token (its grant resolved against the snapshot passed in).
        case authenticated(Caller)
        /// No `Authorization: Bearer` credential.
        case missing
        /// A bearer credential that failed verification.
        case invalid(TokenError)
    }

    /// The verifier for the snapshot's tokens section and resource; rebuilt (and the token cache emptied) when
    /// either changes on reload, so a token verified under an old audience or issuer is never served.
    func verifier(for snapshot: PolicySnapshot) -> TokenVerifier {
        let resource = resourceID(snapshot) ?? ""
        let tokens = configuration.tokens ?? snapshot.policy.model.tokens ?? TokensConfig(issuers: [])
        var rebuilt = false
        let verifier = verifierState.withLock { entry -> TokenVerifier in
            if let entry, entry.resource == resource, entry.tokens == tokens { return entry.verifier }
            let verifier = TokenVerifier(
                config: tokens, resource: resource, options: configuration.verifierOptions,
                staticKeys: configuration.staticKeys, fetcher: fetcher,
                clock: configuration.clock, environment: configuration.environment)
            rebuilt = entry != nil
            entry = VerifierEntry(resource: resource, tokens: tokens, verifier: verifier)
            return verifier
        }
        if rebuilt {
            cache.removeAll()
            configuration.logger.info("token settings changed; verifier rebuilt and token cache emptied")
        }
        return verifier
    }

    /// Authenticates an `Authorization` header value: cache first, else full verification.
    public func authenticate(authorization header: String?, snapshot: PolicySnapshot? = nil) async -> Authentication {
        let snapshot = snapshot ?? store.current
        // The cache holds only tokens that passed the token68 check, so a hit needs no check of its own.
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return .missing }
        let verifier = verifier(for: snapshot)
        if let hit = cache.extra(for: token) {
            metrics.tokenVerified(cached: true, code: nil)
            guard hit.grant.stamp != snapshot.policy.stamp else { return .authenticated(hit) }
            // Reloaded policy: re-resolve the grant once and keep it for the next requests.
            let caller = hit.resolved(against: snapshot.policy)
            if let verified = hit.token { cache.insert(token, verified: verified, extra: caller) }
            return .authenticated(caller)
        }
        guard BearerChallenge.isToken68(token) else { return .missing }
        do throws(TokenError) {
            let verified = try await verifier.verify(token)
            let caller = Caller(token: verified, policy: snapshot.policy)
            cache.insert(token, verified: verified, extra: caller)
            metrics.tokenVerified(cached: false, code: nil)
            return .authenticated(caller)
        } catch {
            metrics.tokenVerified(cached: false, code: error.code.id)
            configuration.logger.info("bearer token refused", metadata: ["code": "\(error.code.id)"])
            return .invalid(error)
        }
    }

    /// The caller for an `Authorization` header **from the verified-token cache only** (no I/O, no suspension):
    /// what synchronous code (the SDK's request validators, handlers behind ``MCPHTTPGateway``) may use.
    /// Nil when the token was never verified by this authorizer or has expired: fail closed.
    public func cachedCaller(authorization header: String?, snapshot: PolicySnapshot? = nil) -> Caller? {
        // Lookups only, here and in `hasCachedToken`: the cache holds tokens that passed the token68 check.
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header), let hit = cache.extra(for: token)
        else {
            return nil
        }
        return hit.resolved(against: (snapshot ?? store.current).policy)
    }

    /// Whether the bearer token of an `Authorization` header is in the verified-token cache and unexpired (what
    /// ``CachedTokenValidator`` checks; no I/O, nothing copied).
    public func hasCachedToken(authorization header: String?) -> Bool {
        guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return false }
        return cache.contains(token)
    }

    // MARK: decisions

    /// A decided call with what the responses and the audit need.
    ///
    /// ```swift
    /// let outcome = authorizer.decide(call, caller: caller)
    /// if !outcome.decision.allowed { print("needs", outcome.missing) }
    /// ```
    public struct Outcome: Sendable {
        public let call: Call
        public let decision: Decision
        /// The missing scopes by name (empty unless `missing_scope`).
        public let missing: [String]
    }

    /// Decides `call` for `caller` with `snapshot`, records one audit event and the metrics.
    @discardableResult
    public func decide(_ call: Call, caller: Caller, snapshot: PolicySnapshot? = nil, audit: Bool = true) -> Outcome {
        let snapshot = snapshot ?? store.current
        let policy = snapshot.policy
        let caller = caller.resolved(against: policy)
        let start = DispatchTime.now().uptimeNanoseconds
        let decision = policy.decide(call, grant: caller.grant)
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        metrics.decided(decision, nanoseconds: elapsed)
        let missing = policy.names(decision.missing)
        if audit { self.audit(call, decision: decision, caller: caller, snapshot: snapshot) }
        return Outcome(call: call, decision: decision, missing: missing)
    }

    func audit(_ call: Call, decision: Decision, caller: Caller, snapshot: PolicySnapshot) {
        // Building the record re-explains the decision: skip it when nobody listens.
        guard configuration.auditSink != nil || configuration.auditLogger.logLevel <= .info else { return }
        let policy = snapshot.policy
        let record = policy.record(
            for: decision, call: call, grant: caller.grant, style: .grantedPlusMissing, policyVersion: snapshot.version)
        let event = AuditEvent(
            decision: decision, record: record, call: call, grant: caller.grant, policy: policy,
            policyVersion: snapshot.version, time: configuration.clock.now(),
            clientID: caller.clientID, subject: caller.subject, tokenID: caller.tokenID)
        configuration.auditLogger.info("\(event.json)")
        configuration.auditSink?(event)
    }

    // MARK: challenges

    /// The `WWW-Authenticate` of a 401: `resource_metadata`, `scope` (= `scopes_supported` plus, when the call is
    /// a known tool, its least-privilege set) and, for a presented but invalid token, `error="invalid_token"` with
    /// the verifier's short description.
    public func unauthorizedChallenge(for call: Call?, error: TokenError?, snapshot: PolicySnapshot? = nil) -> String {
        let snapshot = snapshot ?? store.current
        return BearerChallenge.unauthorized(
            policy: snapshot.policy, call: call, error: error, metadataURL: resourceMetadataURL(snapshot))
    }

    // MARK: tools/list

    /// Whether `caller` may call `tool` in some way: for a tool with actions, some action is allowed; `when`
    /// extras are not considered (they depend on arguments). Not audited (a listing is not a call).
    public func mayCall(tool: String, caller: Caller, snapshot: PolicySnapshot? = nil) -> Bool {
        let policy = (snapshot ?? store.current).policy
        let caller = caller.resolved(against: policy)
        guard let index = policy.toolRuleIndex(for: tool) else { return false }
        let rule = policy.model.tools[index]
        if let argument = rule.actionArgument, let actions = rule.actions {
            return actions.contains {
                policy.isAllowed(.tool(tool, arguments: [argument: .string($0.name)]), grant: caller.grant)
            }
        }
        return policy.isAllowed(.tool(tool), grant: caller.grant)
    }
}
