import Foundation
import ScopeGate

/// The deployment checklist as pure functions of a ``DeploymentEvidence``: protected resource metadata,
/// authorization server metadata, keys, a sample token and the resource's answers (docs/doctor.md).
///
/// ```swift
/// let findings = DeploymentDoctor.evaluate(evidence)
/// let report = DoctorReport(resource: evidence.resource, findings: findings)
/// print(report.score, report.hasFailures)
/// ```
public enum DeploymentDoctor {
    /// The asymmetric algorithms accepted when no policy names its own (RFC 8725 §3.2: never `none` or HMAC at
    /// a resource server).
    public static let defaultAlgorithms = [
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
        "ES512", "EdDSA",
    ]
    /// The longest access-token lifetime that passes (one hour).
    public static let maxLifetime: TimeInterval = 3600

    /// Every check of ``DoctorCheck/all``, in that order.
    public static func evaluate(_ evidence: DeploymentEvidence) -> [DoctorFinding] {
        metadataFindings(evidence) + serverFindings(evidence) + tokenFindings(evidence)
    }

    /// The protected resource metadata to judge: the path form's when it answered, else the root form's.
    static func metadata(_ e: DeploymentEvidence) -> JSONValue? {
        if let o = e.prmPathForm?.object { return .object(o) }
        if let o = e.prmRootForm?.object { return .object(o) }
        return nil
    }

    /// The authorization server metadata, when it answered with a JSON object.
    static func serverMetadata(_ e: DeploymentEvidence) -> JSONValue? {
        e.authorizationServer?.object.map { .object($0) }
    }

    /// `127.0.0.0/8`, `::1` and `localhost`.
    static func isLoopback(_ url: URL) -> Bool {
        guard let host = url.host?.lowercased() else { return false }
        return host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host == "[::1]"
            || host.hasPrefix("127.")
    }

    /// `a`, `b` → "`a`, `b`"; empty → "none".
    static func list(_ items: [String]) -> String {
        items.isEmpty ? "none" : items.map { "`\($0)`" }.joined(separator: ", ")
    }

    // MARK: - Protected resource metadata (SGH01–SGH05)

    static func metadataFindings(_ e: DeploymentEvidence) -> [DoctorFinding] {
        var out: [DoctorFinding] = [reachability(e)]
        guard let prm = metadata(e) else {
            for check in [DoctorCheck.prmResource, .prmAuthorizationServers, .prmScopes, .prmNoOfflineAccess] {
                out.append(DoctorFinding(check, .skip, evidence: "no protected resource metadata to read"))
            }
            return out
        }
        out.append(resourceMatch(prm, e))
        out.append(authorizationServers(prm, e))
        let scopes = prm.strings("scopes_supported")
        if let scopes, !scopes.isEmpty {
            out.append(DoctorFinding(.prmScopes, .pass, evidence: "`scopes_supported`: \(list(scopes))"))
        } else {
            out.append(
                DoctorFinding(
                    .prmScopes, .warn, evidence: "`scopes_supported` is \(scopes == nil ? "absent" : "empty")",
                    recommendation:
                        "list the scopes clients may request (scopegate proxy serves the policy's `resource.scopes_supported`), so clients ask for the least they need"
                ))
        }
        if let scopes {
            out.append(
                scopes.contains("offline_access")
                    ? DoctorFinding(
                        .prmNoOfflineAccess, .fail, evidence: "`scopes_supported` offers `offline_access`",
                        recommendation:
                            "remove `offline_access`: an MCP client asking for every listed scope then holds a refresh token it does not need"
                    )
                    : DoctorFinding(.prmNoOfflineAccess, .pass, evidence: "`offline_access` is not offered"))
        } else {
            out.append(DoctorFinding(.prmNoOfflineAccess, .skip, evidence: "no `scopes_supported`"))
        }
        return out
    }

    static func reachability(_ e: DeploymentEvidence) -> DoctorFinding {
        let path = e.prmPathForm
        let root = e.prmRootForm
        let pathOK = path?.object != nil
        let rootOK = root.map { $0.object != nil }
        let shown = [path, root].compactMap { $0.map { "\($0.url): \($0.outcome)" } }.joined(separator: "; ")
        switch (pathOK, rootOK) {
        case (true, nil):
            return DoctorFinding(.prmReachable, .pass, evidence: shown + " (the resource has no path: one form)")
        case (true, true?):
            let a = path?.json ?? .null
            let b = root?.json ?? .null
            if a.string("resource") != b.string("resource")
                || a.strings("authorization_servers") != b.strings("authorization_servers")
            {
                return DoctorFinding(
                    .prmReachable, .warn,
                    evidence: shown
                        + "; the forms disagree: `resource` \(a.string("resource") ?? "-") vs \(b.string("resource") ?? "-")",
                    recommendation:
                        "serve one document for this resource at both URLs, or none at the root when it describes another resource"
                )
            }
            return DoctorFinding(.prmReachable, .pass, evidence: shown + "; both forms agree")
        case (true, false?):
            return DoctorFinding(
                .prmReachable, .warn, evidence: shown,
                recommendation:
                    "also serve the metadata at the root form: MCP clients fall back to it when the path form is missing, and older clients only try it"
            )
        case (false, true?):
            return DoctorFinding(
                .prmReachable, .warn, evidence: shown,
                recommendation: "serve the metadata at the path form too: RFC 9728 clients look there first")
        case (false, _):
            return DoctorFinding(
                .prmReachable, .fail, evidence: shown.isEmpty ? "nothing fetched" : shown,
                recommendation:
                    "serve RFC 9728 metadata for the resource (scopegate proxy does, from the policy's `resource:` section)"
            )
        }
    }

    static func resourceMatch(_ prm: JSONValue, _ e: DeploymentEvidence) -> DoctorFinding {
        guard let resource = prm.string("resource") else {
            return DoctorFinding(
                .prmResource, .fail, evidence: "the metadata has no `resource`",
                recommendation: "set `resource` to \(e.resource)")
        }
        if resource == e.resource {
            return DoctorFinding(.prmResource, .pass, evidence: "`resource`: \(resource)")
        }
        func trimmed(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }
        let nearly = trimmed(resource) == trimmed(e.resource)
        return DoctorFinding(
            .prmResource, nearly ? .warn : .fail,
            evidence: "`resource` is \(resource), the resource is \(e.resource)",
            recommendation:
                "make `resource` exactly the URL clients use: clients must refuse metadata for another resource, and tokens are bound to this string"
        )
    }

    static func authorizationServers(_ prm: JSONValue, _ e: DeploymentEvidence) -> DoctorFinding {
        let servers = prm.strings("authorization_servers") ?? []
        if servers.isEmpty {
            return DoctorFinding(
                .prmAuthorizationServers, .fail, evidence: "`authorization_servers` is absent or empty",
                recommendation: "list the issuer clients should get tokens from")
        }
        if e.issuerGiven, let issuer = e.issuer, !servers.contains(issuer) {
            return DoctorFinding(
                .prmAuthorizationServers, .fail,
                evidence: "`authorization_servers`: \(list(servers)); the issuer \(issuer) is not among them",
                recommendation: "list \(issuer) in `authorization_servers`, or audit the issuer the metadata names")
        }
        return DoctorFinding(.prmAuthorizationServers, .pass, evidence: "`authorization_servers`: \(list(servers))")
    }
}
