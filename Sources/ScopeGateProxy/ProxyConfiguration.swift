import Foundation
import ScopeGate
import ScopeGateRequestAuthorization

/// The settings of an ``MCPProxy``.
///
/// ```swift
/// var configuration = ProxyConfiguration(upstream: "http://127.0.0.1:9000/mcp")
/// configuration.authorization.protocols = ProtocolSupport(minimum: .november2025)
/// let stdio = ProxyConfiguration(command: ["python3", "-m", "mcp_server_time"])
/// ```
public struct ProxyConfiguration: Sendable {
    /// The upstream Streamable HTTP endpoint; every authorized request to the proxy's endpoint goes there
    /// (unused when ``upstreamCommand`` is set).
    public var upstream: String
    /// The proxy's MCP endpoint path; default: the path of the policy's `resource.id`, else `/mcp`.
    public var endpointPath: String?
    /// Revisions, limits, challenge strategy and `x-mcp-header` annotations.
    public var authorization: AuthorizationSettings
    /// The canonical resource URI (audience, `resource` of the metadata); default: the policy's `resource.id`.
    public var resource: String?
    /// The longest the upstream may take to answer: an HTTP server's response head, a stdio child's answer (504
    /// past it). An HTTP response already streaming is not cut.
    public var upstreamTimeout: Duration
    /// A stdio MCP server to start and bridge instead of `upstream` (argv: the program, then its arguments).
    public var upstreamCommand: [String]?
    /// The environment of the stdio child (nil: this process's).
    public var upstreamEnvironment: [String: String]?
    /// The `Authorization` value sent to an HTTP upstream (a static credential, e.g. `Bearer …` read from the
    /// environment); nil sends none. A tool with `downstream:` gets an exchanged token instead.
    public var upstreamAuthorization: String?
    /// The most 2025-xx sessions bound to principals at once (the least recently used is forgotten beyond).
    public var sessionCapacity: Int = 10_000
    /// How long an unused session stays bound, in seconds.
    public var sessionIdleTimeout: TimeInterval = 3600
    /// The most streams held open at once (503 past it; see ``StreamSlots``).
    public var maxStreams: Int = 1024
    /// The most streams one principal holds open at once (429 past it).
    public var maxStreamsPerPrincipal: Int = 64

    public init(
        upstream: String, endpointPath: String? = nil, authorization: AuthorizationSettings = .init(),
        resource: String? = nil, upstreamTimeout: Duration = .seconds(300)
    ) {
        self.upstream = upstream
        self.endpointPath = endpointPath
        self.authorization = authorization
        self.resource = resource
        self.upstreamTimeout = upstreamTimeout
    }

    /// A proxy in front of the stdio MCP server started from `command` (see ``StdioUpstream``).
    public init(
        command: [String], endpointPath: String? = nil, authorization: AuthorizationSettings = .init(),
        resource: String? = nil, upstreamTimeout: Duration = .seconds(300)
    ) {
        self.init(
            upstream: "", endpointPath: endpointPath, authorization: authorization, resource: resource,
            upstreamTimeout: upstreamTimeout)
        upstreamCommand = command
    }

    /// The endpoint path in force for `policy`.
    func endpoint(for policy: CompiledPolicy) -> String {
        if let endpointPath { return endpointPath }
        if let id = resource ?? policy.model.resource?.id, let url = URL(string: id), !url.path.isEmpty {
            return url.path
        }
        return "/mcp"
    }
}
