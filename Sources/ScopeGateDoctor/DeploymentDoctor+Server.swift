import Foundation
import ScopeGate

/// Authorization server metadata checks (SGH06–SGH11).
extension DeploymentDoctor {
    static func serverFindings(_ e: DeploymentEvidence) -> [DoctorFinding] {
        var out: [DoctorFinding] = []
        guard let issuer = e.issuer else {
            out.append(
                DoctorFinding(
                    .asMetadata, .fail, evidence: "no issuer: no `--issuer` and no `authorization_servers` to follow",
                    recommendation: "pass --issuer, or list the issuer in the protected resource metadata"))
            out.append(https(e, server: nil))
            for check in [DoctorCheck.pkceS256, .noLegacyGrants, .resourceIndicators, .clientRegistration] {
                out.append(DoctorFinding(check, .skip, evidence: "no authorization server metadata"))
            }
            return out
        }
        let server = serverMetadata(e)
        out.append(metadataFinding(issuer, e.authorizationServer, server))
        out.append(https(e, server: server))
        guard let server else {
            for check in [DoctorCheck.pkceS256, .noLegacyGrants, .resourceIndicators, .clientRegistration] {
                out.append(DoctorFinding(check, .skip, evidence: "no authorization server metadata"))
            }
            return out
        }
        out.append(pkce(server))
        out.append(legacyGrants(server))
        out.append(resourceIndicators(server, e))
        out.append(registration(server))
        return out
    }

    static func metadataFinding(_ issuer: String, _ fetched: FetchedDocument?, _ server: JSONValue?) -> DoctorFinding {
        guard let server, let fetched else {
            return DoctorFinding(
                .asMetadata, .fail,
                evidence: "\(fetched?.url ?? issuer): \(fetched?.outcome ?? "not fetched")",
                recommendation:
                    "serve RFC 8414 metadata at /.well-known/oauth-authorization-server (or OpenID discovery); MCP clients cannot find the endpoints otherwise"
            )
        }
        guard server.string("issuer") == issuer else {
            return DoctorFinding(
                .asMetadata, .fail,
                evidence: "\(fetched.url) names the issuer `\(server.string("issuer") ?? "-")`, expected `\(issuer)`",
                recommendation:
                    "the metadata's `issuer` must be identical to the issuer it was fetched for (mix-up protection)")
        }
        return DoctorFinding(.asMetadata, .pass, evidence: "\(fetched.url): `issuer` \(issuer)")
    }

    static func https(_ e: DeploymentEvidence, server: JSONValue?) -> DoctorFinding {
        var urls: [(String, String)] = [("resource", e.resource)]
        if let issuer = e.issuer { urls.append(("issuer", issuer)) }
        for s in metadata(e)?.strings("authorization_servers") ?? [] where s != e.issuer {
            urls.append(("authorization server", s))
        }
        if case .object(let members)? = server {
            for key in members.keys.sorted() where key.hasSuffix("_endpoint") || key == "jwks_uri" {
                if case .string(let s)? = members[key] { urls.append(("`\(key)`", s)) }
            }
        }
        var plain: [String] = []
        var loopback: [String] = []
        for (what, text) in urls {
            guard let url = URL(string: text), url.scheme?.lowercased() != "https" else { continue }
            if url.scheme?.lowercased() == "http", isLoopback(url) {
                loopback.append(what)
            } else {
                plain.append("\(what) \(text)")
            }
        }
        if !plain.isEmpty {
            return DoctorFinding(
                .asHTTPS, .fail, evidence: "not HTTPS: " + plain.joined(separator: ", "),
                recommendation:
                    "serve the issuer, its endpoints and the resource over HTTPS: tokens and codes cross these links")
        }
        let checked = urls.count
        return DoctorFinding(
            .asHTTPS, .pass,
            evidence: loopback.isEmpty
                ? "\(checked) URLs, all HTTPS"
                : "\(checked) URLs; plain HTTP only on loopback (\(loopback.count)), which a local test deployment may use"
        )
    }

    static func pkce(_ server: JSONValue) -> DoctorFinding {
        guard let methods = server.strings("code_challenge_methods_supported") else {
            return DoctorFinding(
                .pkceS256, .fail, evidence: "`code_challenge_methods_supported` is absent",
                recommendation:
                    "enable PKCE with S256 and advertise it: MCP clients must refuse an authorization server that does not"
            )
        }
        guard methods.contains("S256") else {
            return DoctorFinding(
                .pkceS256, .fail, evidence: "`code_challenge_methods_supported`: \(list(methods))",
                recommendation: "support and advertise `S256`")
        }
        if methods.contains("plain") {
            return DoctorFinding(
                .pkceS256, .warn, evidence: "`code_challenge_methods_supported`: \(list(methods))",
                recommendation: "drop `plain`: it protects nothing once the authorization request leaks")
        }
        return DoctorFinding(.pkceS256, .pass, evidence: "`code_challenge_methods_supported`: \(list(methods))")
    }

    static func legacyGrants(_ server: JSONValue) -> DoctorFinding {
        let grants = server.strings("grant_types_supported")
        let responses = server.strings("response_types_supported") ?? []
        var offered: [String] = []
        for g in grants ?? [] where g == "implicit" || g == "password" { offered.append("grant `\(g)`") }
        for r in responses where r.split(separator: " ").contains("token") { offered.append("response type `\(r)`") }
        if !offered.isEmpty {
            return DoctorFinding(
                .noLegacyGrants, .fail, evidence: "offered: " + offered.joined(separator: ", "),
                recommendation:
                    "disable the implicit and password grants: OAuth 2.1 removes both (tokens in URLs, passwords given to clients)"
            )
        }
        guard let grants else {
            return DoctorFinding(
                .noLegacyGrants, .warn,
                evidence:
                    "`grant_types_supported` is absent, which RFC 8414 reads as `authorization_code` and `implicit`",
                recommendation: "advertise `grant_types_supported` without `implicit`")
        }
        return DoctorFinding(.noLegacyGrants, .pass, evidence: "`grant_types_supported`: \(list(grants))")
    }

    static func resourceIndicators(_ server: JSONValue, _ e: DeploymentEvidence) -> DoctorFinding {
        if server.bool("resource_indicators_supported") == true {
            return DoctorFinding(.resourceIndicators, .pass, evidence: "`resource_indicators_supported`: true")
        }
        if let token = e.token, let audiences = TokenFacts(token)?.audiences, audiences.contains(e.resource) {
            return DoctorFinding(
                .resourceIndicators, .pass,
                evidence:
                    "the metadata does not state it, but the sample token's `aud` is \(e.resource): the issuer binds tokens to this resource"
            )
        }
        return DoctorFinding(
            .resourceIndicators, .warn,
            evidence: "the metadata does not state RFC 8707 support (no `resource_indicators_supported`)"
                + (e.token == nil
                    ? "; no sample token to look at" : "; the sample token is not bound to this resource"),
            recommendation:
                "let clients send `resource=\(e.resource)` and put it in `aud`; give --token to check a real token")
    }

    static func registration(_ server: JSONValue) -> DoctorFinding {
        if server.bool("client_id_metadata_document_supported") == true {
            return DoctorFinding(
                .clientRegistration, .pass, evidence: "`client_id_metadata_document_supported`: true")
        }
        if let endpoint = server.string("registration_endpoint") {
            return DoctorFinding(
                .clientRegistration, .pass,
                evidence: "`registration_endpoint`: \(endpoint) (dynamic registration; no Client ID Metadata Documents)"
            )
        }
        return DoctorFinding(
            .clientRegistration, .warn,
            evidence: "neither `client_id_metadata_document_supported` nor `registration_endpoint`",
            recommendation:
                "support Client ID Metadata Documents (or dynamic registration) so MCP clients need no manual pre-registration"
        )
    }
}
