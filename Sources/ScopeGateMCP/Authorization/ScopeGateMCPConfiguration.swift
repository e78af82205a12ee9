import Foundation
import Logging
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens
import ScopeGateURLSession

/// How ``MCPAuthorizer`` verifies tokens, decides, and reports. Every field has a safe default.
///
/// ```swift
/// var configuration = ScopeGateMCPConfiguration()
/// configuration.resource = ProcessInfo.processInfo.environment["MCP_RESOURCE"]
/// configuration.challengeScope = .grantedPlusMissing
/// let authorizer = try MCPAuthorizer(policyPath: "policies/climate.yaml", configuration: configuration)
/// ```
public struct ScopeGateMCPConfiguration: Sendable {
    /// Overrides the policy's `resource.id` (the canonical resource URI = accepted token audience, the base of the
    /// metadata URL). Use when one policy serves several deployments (e.g. `MCP_RESOURCE`).
    public var resource: String?
    /// Overrides the policy's `resource.authorization_servers` in the Protected Resource Metadata.
    public var authorizationServers: [String]?
    /// Replaces the policy's `tokens:` section (e.g. to point the example at a local IdP). Nil: use the policy's.
    public var tokens: TokensConfig?
    /// The `scope` of a 403: the scopes the refused operation needs (default: 2026-07-28's rule, the same
    /// challenge as `scopegate proxy`; clients union it with what they hold), or the granted scopes plus the
    /// missing ones (`.grantedPlusMissing`, 2025-11-25's recommendation, for clients that replace their scopes
    /// instead of adding). See ``ChallengeScopeStrategy``.
    public var challengeScope: ChallengeScopeStrategy = .required
    /// The protocol revisions served: those of the MCP Swift SDK (2025-03-26 to 2025-11-25). A request naming
    /// another revision gets 400 with the supported list (JSON-RPC -32022), before any decision.
    public var protocols = ProtocolSupport(
        minimum: .march2025, known: [.march2025, .june2025, .november2025])
    /// Whether `tools/list` is filtered to the tools the caller may call (default on).
    public var filterToolsList: Bool = true
    /// Largest accepted request body (default 1 MiB); larger bodies get 413 before any parsing.
    public var maxBodyBytes: Int = 1 << 20
    /// Deepest accepted JSON nesting of a request body (default 64).
    public var maxJSONDepth: Int = 64
    /// Most JSON-RPC messages in one batch (default 64).
    public var maxBatchSize: Int = 64
    /// Largest accepted request head, request line and header fields (default 32 KiB): ``GatewayResponder``
    /// answers a larger one 431 before the body is read or the token looked at, as `scopegate proxy` does.
    public var maxHeaderBytes: Int = 32 << 10
    /// Most header fields in a request head (default 100; 431 above it).
    public var maxHeaderFields: Int = 100
    /// Verified tokens kept (LRU, never past `exp`).
    public var tokenCacheCapacity: Int = 10_000
    /// Token verifier limits and JWKS cache policy.
    public var verifierOptions: TokenVerifier.Options = .init()
    /// Cache and response bounds of RFC 8693 token exchange for `downstream:` tools.
    public var exchangeLimits: TokenExchanger.Limits = .init()
    /// Fixed key sets by issuer (no fetching), e.g. for tests or air-gapped deployments.
    public var staticKeys: [String: JWKSet] = [:]
    /// HTTP for JWKS, discovery, introspection and token exchange (wrapped to count requests in metrics).
    public var fetcher: any HTTPFetcher = URLSessionFetcher()
    /// The time source of every token check.
    public var clock: any TokenClock = SystemTokenClock()
    /// Where `client_secret_env` values (introspection and exchange secrets) are read.
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Receives one JSON audit line per decision at `info` (label `scopegate.audit` by default). Never the token.
    public var auditLogger: Logger = Logger(label: "scopegate.audit")
    /// Operational messages: token failures (codes only), reloads, diagnostics.
    public var logger: Logger = Logger(label: "scopegate.mcp")
    /// Also called with every audit event (tests, custom sinks).
    public var auditSink: (@Sendable (AuditEvent) -> Void)?

    /// A configuration with defaults.
    public init() {}
}
