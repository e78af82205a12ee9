import Foundation

extension CompiledPolicy {
    /// The URL of this resource's Protected Resource Metadata (RFC 9728 path form), if `resource.id` is set.
    public var resourceMetadataURL: String? { metadataURL }

    /// Computes the metadata URL once, at lowering (see ``CompiledPolicy/metadataURL``).
    static func metadataURL(for model: PolicyModel) -> String? {
        guard let id = model.resource?.id, let url = URL(string: id), let scheme = url.scheme, let host = url.host
        else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        return "\(scheme)://\(host)\(port)/.well-known/oauth-protected-resource\(path)"
    }

    /// The `WWW-Authenticate` value of a 403 for a `missing_scope` decision (nil for other outcomes).
    public func challenge(for decision: Decision, grant: Grant, style: ChallengeScope = .grantedPlusMissing) -> String?
    {
        guard decision.reason == .missingScope else { return nil }
        var scopeList: [String] = []
        if style == .grantedPlusMissing {
            for s in grant.recognized where !scopeList.contains(s) { scopeList.append(s) }
        }
        for s in names(decision.missing) where !scopeList.contains(s) { scopeList.append(s) }
        return challengeHead + scopeList.joined(separator: " ") + challengeTail
    }

    /// The 403 challenge before its scope list: the value is `challengeHead`, the scopes joined by spaces, then
    /// ``challengeTail`` (renderers that write the list themselves use the two parts).
    package var challengeHead: String { "Bearer error=\"insufficient_scope\", scope=\"" }

    /// The 403 challenge after its scope list: the closing quote, `resource_metadata` when `resource.id` is set,
    /// and the description.
    package var challengeTail: String {
        var tail = "\""
        if let metadata = resourceMetadataURL { tail += ", resource_metadata=\"\(metadata)\"" }
        return tail + ", error_description=\"additional scope required\""
    }

    /// The `WWW-Authenticate` value of a 401 (no token, or a token that failed verification): `scope` is
    /// `scopes_supported` plus, when the call is known, the least-privilege set of its tool; `error` and
    /// `error_description` are added for a presented but invalid token (`error="invalid_token"`).
    public func unauthorizedChallenge(for call: Call? = nil, error: String? = nil, description: String? = nil) -> String
    {
        var scopeList = model.resource?.resolvedScopesSupported ?? []
        if let call, call.method == "tools/call", toolRuleIndex(for: call.name) != nil,
            let least = try? LeastPrivilegeSolver(policy: self).minimal(for: [ToolSelection(tool: call.name)])
        {
            for s in least.scopes where !scopeList.contains(s) { scopeList.append(s) }
        }
        var parts: [String] = []
        if let metadata = resourceMetadataURL { parts.append("resource_metadata=\"\(metadata)\"") }
        if !scopeList.isEmpty { parts.append("scope=\"\(scopeList.joined(separator: " "))\"") }
        if let error {
            parts.append("error=\"\(Self.headerSafe(error))\"")
            if let description { parts.append("error_description=\"\(Self.headerSafe(description))\"") }
        }
        return parts.isEmpty ? "Bearer" : "Bearer " + parts.joined(separator: ", ")
    }

    /// Keeps a challenge parameter value to printable ASCII without quotes or backslashes (RFC 6750 §3).
    static func headerSafe(_ s: String) -> String {
        String(
            String.UnicodeScalarView(
                s.unicodeScalars.prefix(200).map { u in
                    (u.value >= 0x20 && u.value < 0x7F && u != "\"" && u != "\\") ? u : "?"
                }))
    }
}
