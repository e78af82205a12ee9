import Foundation
import ScopeGate
import ScopeGateRequestAuthorization

/// The settings of an ``MCPProxy``.
///
/// ```swift
/// var configuration = ProxyConfiguration(upstream: "http://127.0.0.1:9000/mcp")
/// configuration.authorization.protocols = ProtocolSupport(minimum: .november2025)
/// ```
public struct ProxyConfiguration: Sendable {
    /// The upstream Streamable HTTP endpoint; every authorized request to the proxy's endpoint goes there.
    public var upstream: String
    /// The proxy's MCP endpoint path; default: the path of the policy's `resource.id`, else `/mcp`.
    public var endpointPath: String?
    /// Revisions, limits, challenge strategy and `x-mcp-header` annotations.
    public var authorization: AuthorizationSettings
    /// The canonical resource URI (audience, `resource` of the metadata); default: the policy's `resource.id`.
    public var resource: String?
    /// The longest an upstream exchange may take, streams included.
    public var upstreamTimeout: Duration

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

    /// The endpoint path in force for `policy`.
    func endpoint(for policy: CompiledPolicy) -> String {
        if let endpointPath { return endpointPath }
        if let id = resource ?? policy.model.resource?.id, let url = URL(string: id), !url.path.isEmpty {
            return url.path
        }
        return "/mcp"
    }
}
