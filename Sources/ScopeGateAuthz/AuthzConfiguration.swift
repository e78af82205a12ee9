import Foundation
import ScopeGate
import ScopeGateRequestAuthorization

/// The settings of an ``AuthzService``.
///
/// ```swift
/// var configuration = AuthzConfiguration(path: "/authz")
/// configuration.authorization.challengeScope = .grantedPlusMissing
/// ```
public struct AuthzConfiguration: Sendable {
    /// Where decision requests arrive; Envoy's `path_prefix` requests (`/authz/…`) too.
    public var path: String
    /// Revisions, limits, challenge strategy and `x-mcp-header` annotations.
    public var authorization: AuthorizationSettings
    /// The canonical resource URI (audience, challenges' `resource_metadata`, the metadata's `resource`);
    /// default: the policy's `resource.id`.
    public var resource: String?
    /// Serve Protected Resource Metadata at `/.well-known/oauth-protected-resource[/path]`, so the front proxy
    /// can route that path here and the metadata always matches the policy that decides.
    public var servesMetadata: Bool

    public init(
        path: String = "/authz", authorization: AuthorizationSettings = .init(), resource: String? = nil,
        servesMetadata: Bool = true
    ) {
        self.path = path
        self.authorization = authorization
        self.resource = resource
        self.servesMetadata = servesMetadata
    }

    /// The authorization settings in force: the metadata URL follows a `resource` override.
    var effectiveAuthorization: AuthorizationSettings {
        var settings = authorization
        if settings.resourceMetadataURL == nil, let resource {
            settings.resourceMetadataURL = BearerChallenge.metadataURL(forResource: resource)
        }
        return settings
    }

    /// The path of the protected MCP endpoint (for the metadata's path form): the path of the resource URI.
    func endpoint(for policy: CompiledPolicy) -> String {
        if let id = resource ?? policy.model.resource?.id, let url = URL(string: id), !url.path.isEmpty {
            return url.path
        }
        return "/mcp"
    }
}
