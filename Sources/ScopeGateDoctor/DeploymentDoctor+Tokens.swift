import Foundation
import ScopeGate
import ScopeGateTokens

/// What the doctor reads from a sample token, decoded WITHOUT verification (the doctor judges the issuer's
/// settings; the resource verifies tokens).
struct TokenFacts {
    var alg: String?
    var typ: String?
    /// `aud` as a list; nil when absent.
    var audiences: [String]?
    var exp: Double?
    var iat: Double?
    var nbf: Double?

    init?(_ token: String) {
        guard let decoded = try? TokenInspector.decode(token) else { return nil }
        alg = decoded.header["alg"]?.stringValue
        typ = decoded.header["typ"]?.stringValue
        switch decoded.claims["aud"] {
        case .string(let s)?: audiences = [s]
        case .array(let items)?: audiences = items.compactMap(\.stringValue)
        default: audiences = nil
        }
        exp = decoded.claims["exp"]?.numberValue
        iat = decoded.claims["iat"]?.numberValue
        nbf = decoded.claims["nbf"]?.numberValue
    }
}

/// Keys, the sample token and the resource's answers (SGH12–SGH18).
extension DeploymentDoctor {
    static func tokenFindings(_ e: DeploymentEvidence) -> [DoctorFinding] {
        var out = [jwksReachable(e), jwksAlgorithms(e)]
        if let token = e.token {
            if let facts = TokenFacts(token) {
                out += [lifetime(facts, e), audience(facts, e), tokenType(facts)]
            } else {
                for check in [DoctorCheck.tokenLifetime, .tokenAudience, .tokenType] {
                    out.append(
                        DoctorFinding(
                            check, .warn, evidence: "the sample token is opaque (not a JWT): nothing to read",
                            recommendation:
                                "check this at the issuer's introspection endpoint, or issue RFC 9068 JWT access tokens"
                        ))
                }
            }
        } else {
            for check in [DoctorCheck.tokenLifetime, .tokenAudience, .tokenType] {
                out.append(DoctorFinding(check, .skip, evidence: "no sample token (--token)"))
            }
        }
        out.append(challenge(e))
        out.append(otherAudience(e))
        return out
    }

    static func jwksReachable(_ e: DeploymentEvidence) -> DoctorFinding {
        guard let server = serverMetadata(e) else {
            return DoctorFinding(.jwksReachable, .skip, evidence: "no authorization server metadata")
        }
        guard server.string("jwks_uri") != nil, let jwks = e.jwks else {
            return DoctorFinding(
                .jwksReachable, server.string("introspection_endpoint") == nil ? .fail : .warn,
                evidence: "the metadata has no `jwks_uri`",
                recommendation:
                    "publish the signing keys at `jwks_uri`, or configure introspection for opaque tokens in the policy"
            )
        }
        guard case .array(let keys)? = jwks.object?["keys"], !keys.isEmpty else {
            return DoctorFinding(
                .jwksReachable, .fail, evidence: "\(jwks.url): \(jwks.outcome), no `keys`",
                recommendation: "serve a JWK Set with the current signing keys")
        }
        return DoctorFinding(
            .jwksReachable, .pass, evidence: "\(jwks.url): \(keys.count) key\(keys.count == 1 ? "" : "s")")
    }

    /// The algorithm a key is for: its `alg`, else what its `kty` (and `crv`) allow.
    static func algorithm(ofKey key: JSONValue) -> String {
        if let alg = key.string("alg") { return alg }
        switch key.string("kty") {
        case "RSA": return "RSA (no `alg`)"
        case "EC": return key.string("crv").map { "EC \($0) (no `alg`)" } ?? "EC (no `alg`)"
        case "OKP": return "EdDSA"
        case "oct": return "oct"
        case let other: return "kty `\(other ?? "-")`"
        }
    }

    static func jwksAlgorithms(_ e: DeploymentEvidence) -> DoctorFinding {
        var seen: [String] = []
        if case .array(let keys)? = e.jwks?.object?["keys"] {
            for key in keys where key.string("use") != "enc" {
                let alg = algorithm(ofKey: key)
                if !seen.contains(alg) { seen.append(alg) }
            }
        }
        let tokenAlg = e.token.flatMap { TokenFacts($0)?.alg }
        guard !seen.isEmpty || tokenAlg != nil else {
            return DoctorFinding(.jwksAlgorithms, .skip, evidence: "no keys and no sample token")
        }
        let allowed = Set(e.allowedAlgorithms)
        let forbidden = seen.filter { $0 == "oct" || $0.lowercased() == "none" || $0.hasPrefix("HS") }
        let allowList = "\(e.algorithmsSource) (\(e.allowedAlgorithms.joined(separator: ", ")))"
        var evidence = "keys: \(list(seen))" + (tokenAlg.map { "; the sample token: `\($0)`" } ?? "")
        if !forbidden.isEmpty {
            return DoctorFinding(
                .jwksAlgorithms, .fail, evidence: evidence + "; symmetric or unsigned: \(list(forbidden))",
                recommendation: "sign access tokens with an asymmetric key only, and never publish a shared secret")
        }
        if let tokenAlg, !allowed.contains(tokenAlg) {
            return DoctorFinding(
                .jwksAlgorithms, .fail, evidence: evidence + "; `\(tokenAlg)` is not in \(allowList)",
                recommendation: "sign with an allowed algorithm, or add `\(tokenAlg)` to the issuer's `algorithms:`")
        }
        let outside = seen.filter { !allowed.contains($0) && !$0.contains("no `alg`") }
        if !outside.isEmpty {
            return DoctorFinding(
                .jwksAlgorithms, .warn, evidence: evidence + "; not in \(allowList): \(list(outside))",
                recommendation: "tokens signed with these keys will be refused; align the keys and `algorithms:`")
        }
        evidence += "; within \(allowList)"
        return DoctorFinding(.jwksAlgorithms, .pass, evidence: evidence)
    }

    static func span(_ seconds: Double) -> String { TokenInspector.span(seconds) }

    static func lifetime(_ t: TokenFacts, _ e: DeploymentEvidence) -> DoctorFinding {
        guard let exp = t.exp else {
            return DoctorFinding(
                .tokenLifetime, .fail, evidence: "no `exp`: the token never expires",
                recommendation: "issue access tokens that expire within an hour")
        }
        let start = t.iat ?? t.nbf ?? e.now.timeIntervalSince1970
        let lifetime = exp - start
        let from = t.iat != nil ? "`iat`" : t.nbf != nil ? "`nbf`" : "now"
        let evidence = "valid \(span(lifetime)) (\(from) to `exp`)"
        guard lifetime <= maxLifetime else {
            return DoctorFinding(
                .tokenLifetime, .fail, evidence: evidence,
                recommendation:
                    "shorten the access token lifetime to an hour or less: a leaked bearer token works until it expires"
            )
        }
        return DoctorFinding(.tokenLifetime, .pass, evidence: evidence)
    }

    static func audience(_ t: TokenFacts, _ e: DeploymentEvidence) -> DoctorFinding {
        guard let audiences = t.audiences, !audiences.isEmpty else {
            return DoctorFinding(
                .tokenAudience, .fail, evidence: "no `aud`: the token is valid at any resource that trusts the issuer",
                recommendation: "bind tokens to the resource (RFC 8707 `resource` parameter → `aud`)")
        }
        guard audiences.contains(e.resource) else {
            return DoctorFinding(
                .tokenAudience, .fail, evidence: "`aud`: \(list(audiences)), not \(e.resource)",
                recommendation: "issue tokens whose `aud` is the resource's URL")
        }
        if audiences.count > 1 {
            return DoctorFinding(
                .tokenAudience, .warn, evidence: "`aud`: \(list(audiences)): also valid elsewhere",
                recommendation: "issue one token per resource")
        }
        return DoctorFinding(.tokenAudience, .pass, evidence: "`aud`: \(e.resource)")
    }

    static func tokenType(_ t: TokenFacts) -> DoctorFinding {
        let typ = t.typ?.lowercased()
        if typ == "at+jwt" || typ == "application/at+jwt" {
            return DoctorFinding(.tokenType, .pass, evidence: "`typ`: \(t.typ ?? "")")
        }
        return DoctorFinding(
            .tokenType, .warn, evidence: t.typ.map { "`typ`: \($0)" } ?? "no `typ` in the header",
            recommendation:
                "issue RFC 9068 access tokens (`typ: at+jwt`) so an ID token cannot be replayed as an access token")
    }

    static func challenge(_ e: DeploymentEvidence) -> DoctorFinding {
        guard let answer = e.challenge else {
            return DoctorFinding(.challenge, .skip, evidence: "the resource was not asked")
        }
        guard let status = answer.status else {
            return DoctorFinding(
                .challenge, .fail, evidence: "\(answer.url): \(answer.outcome)",
                recommendation: "make the resource reachable")
        }
        let header = answer.headers["www-authenticate"]
        let shown = "HTTP \(status)" + (header.map { ", `WWW-Authenticate: \($0)`" } ?? ", no `WWW-Authenticate`")
        if (200..<300).contains(status) {
            return DoctorFinding(
                .challenge, .fail, evidence: shown + ": the resource answered a request without a token",
                recommendation: "require a bearer token on every MCP request")
        }
        guard status == 401 else {
            return DoctorFinding(
                .challenge, .warn, evidence: shown,
                recommendation: "answer a request without a token with 401 and a Bearer challenge")
        }
        guard let header, header.contains("resource_metadata=") else {
            return DoctorFinding(
                .challenge, .fail, evidence: shown,
                recommendation:
                    "add `resource_metadata=\"…/.well-known/oauth-protected-resource…\"` to the challenge so clients find the issuer"
            )
        }
        return DoctorFinding(.challenge, .pass, evidence: shown)
    }

    static func otherAudience(_ e: DeploymentEvidence) -> DoctorFinding {
        guard let answer = e.otherAudience else {
            return DoctorFinding(
                .otherAudienceRefused, .skip, evidence: "no token for another audience (--other-audience-token)")
        }
        switch answer.status {
        case 401?, 403?:
            return DoctorFinding(.otherAudienceRefused, .pass, evidence: "HTTP \(answer.status ?? 0)")
        case let status? where (200..<300).contains(status):
            return DoctorFinding(
                .otherAudienceRefused, .fail, evidence: "HTTP \(status): the resource accepted it",
                recommendation: "check `aud` against the resource (the policy's `tokens.issuers[].audiences`)")
        default:
            return DoctorFinding(
                .otherAudienceRefused, .warn, evidence: answer.outcome,
                recommendation: "the resource should answer 401 `invalid_token`")
        }
    }
}
