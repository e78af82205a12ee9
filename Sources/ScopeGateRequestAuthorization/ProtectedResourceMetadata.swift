import Foundation
import ScopeGate

/// RFC 9728 Protected Resource Metadata built from a policy's `resource:` section, and where it is served.
///
/// ```swift
/// let metadata = ProtectedResourceMetadata(policy: policy)
/// metadata.paths(endpoint: "/mcp")  // ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]
/// metadata.json                     // {"resource":"https://…/mcp","authorization_servers":[…],…}
/// ```
public struct ProtectedResourceMetadata: Sendable, Hashable {
    public var resource: String
    public var authorizationServers: [String]
    public var scopesSupported: [String]
    public var documentation: String?
    /// The public requirements document (``PublishedRequirements/document(policy:resource:)``), when the policy
    /// publishes one: `scheme://host[:port]/.well-known/scopegate-requirements/path`.
    public var requirementsURL: String?

    /// The metadata of `policy`; `resource` and `authorizationServers` override the policy's values.
    public init(policy: CompiledPolicy, resource: String? = nil, authorizationServers: [String]? = nil) {
        let section = policy.model.resource
        self.resource = resource ?? section?.id ?? ""
        self.authorizationServers = authorizationServers ?? section?.authorizationServers ?? []
        self.scopesSupported = section?.resolvedScopesSupported ?? []
        self.documentation = section?.documentation
        if section?.publishRequirements == true,
            let url = BearerChallenge.metadataURL(forResource: self.resource),
            let range = url.range(of: "/.well-known/oauth-protected-resource")
        {
            self.requirementsURL = url.replacingCharacters(in: range, with: PublishedRequirements.wellKnownPath)
        }
    }

    /// The metadata document (JSON text; `bearer_methods_supported` is always `["header"]`).
    public var json: String {
        var out = "{\"resource\":" + JSONText.quote(resource)
        out += ",\"authorization_servers\":" + JSONText.array(authorizationServers)
        out += ",\"scopes_supported\":" + JSONText.array(scopesSupported)
        out += ",\"bearer_methods_supported\":[\"header\"]"
        if let documentation { out += ",\"resource_documentation\":" + JSONText.quote(documentation) }
        if let requirementsURL {
            out += "," + JSONText.quote(PublishedRequirements.metadataKey) + ":" + JSONText.quote(requirementsURL)
        }
        return out + "}"
    }

    /// The paths the document is served at for an MCP endpoint path: the path form first, then the root form.
    public func paths(endpoint: String) -> [String] {
        let root = "/.well-known/oauth-protected-resource"
        return endpoint == "/" || endpoint.isEmpty ? [root] : [root + endpoint, root]
    }

    /// The paths the public requirements document is served at (none unless the policy publishes it).
    public func requirementsPaths(endpoint: String) -> [String] {
        guard requirementsURL != nil else { return [] }
        let root = PublishedRequirements.wellKnownPath
        return endpoint == "/" || endpoint.isEmpty ? [root] : [root + endpoint, root]
    }
}
