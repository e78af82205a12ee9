import Foundation
import ScopeGate
import ScopeGateDoctor
import Testing

/// A deployment on which every check passes, and helpers to break it one document at a time.
enum Deployment {
    static let resource = "https://mcp.example.com/mcp"
    static let issuer = "https://idp.example.com/realms/mcp"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func json(_ text: String) -> JSONValue {
        (try? JSONParser().parse(text)) ?? .null
    }

    static func document(_ url: String, _ text: String, status: Int = 200) -> FetchedDocument {
        FetchedDocument(url: url, status: status, json: json(text))
    }

    static let prm = """
        {"resource":"\(resource)","authorization_servers":["\(issuer)"],"scopes_supported":["files:read","files:write"]}
        """

    static let server = """
        {"issuer":"\(issuer)","authorization_endpoint":"\(issuer)/auth","token_endpoint":"\(issuer)/token",
         "jwks_uri":"\(issuer)/jwks","code_challenge_methods_supported":["S256"],
         "grant_types_supported":["authorization_code","refresh_token","client_credentials"],
         "response_types_supported":["code"],"client_id_metadata_document_supported":true,
         "resource_indicators_supported":true}
        """

    static let jwks = #"{"keys":[{"kty":"RSA","kid":"a","alg":"RS256","use":"sig","n":"x","e":"AQAB"}]}"#

    /// An unsigned-for-test compact JWS (the doctor never verifies; it reads).
    static func jwt(header: String = #"{"alg":"RS256","typ":"at+jwt","kid":"a"}"#, claims: String) -> String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return b64(header) + "." + b64(claims) + ".c2lnbmF0dXJl"
    }

    static let iat = Int(now.timeIntervalSince1970) - 60
    static let goodToken = jwt(claims: #"{"iss":"\#(issuer)","aud":"\#(resource)","iat":\#(iat),"exp":\#(iat + 900)}"#)

    static func good() -> DeploymentEvidence {
        var e = DeploymentEvidence(resource: resource)
        e.now = now
        e.issuer = issuer
        e.prmPathForm = document("https://mcp.example.com/.well-known/oauth-protected-resource/mcp", prm)
        e.prmRootForm = document("https://mcp.example.com/.well-known/oauth-protected-resource", prm)
        e.authorizationServer = document(
            "https://idp.example.com/.well-known/oauth-authorization-server/realms/mcp", server)
        e.jwks = document("\(issuer)/jwks", jwks)
        e.challenge = FetchedDocument(
            url: resource, status: 401,
            headers: [
                "WWW-Authenticate":
                    #"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#
            ])
        e.token = goodToken
        e.otherAudience = FetchedDocument(url: resource, status: 401)
        return e
    }

    /// `good()` with the authorization server metadata's members replaced (nil removes one).
    static func withServer(_ changes: [String: JSONValue?]) -> DeploymentEvidence {
        var e = good()
        guard case .object(var members) = json(server) else { return e }
        for (k, v) in changes { members[k] = v }
        e.authorizationServer?.json = .object(members)
        return e
    }

    /// `good()` with the metadata's members replaced at both forms.
    static func withPRM(_ changes: [String: JSONValue?]) -> DeploymentEvidence {
        var e = good()
        guard case .object(var members) = json(prm) else { return e }
        for (k, v) in changes { members[k] = v }
        e.prmPathForm?.json = .object(members)
        e.prmRootForm?.json = .object(members)
        return e
    }

    static func finding(_ check: DoctorCheck, _ e: DeploymentEvidence) -> DoctorFinding? {
        DeploymentDoctor.evaluate(e).first { $0.check == check }
    }

    static func status(_ check: DoctorCheck, _ e: DeploymentEvidence) -> DoctorFinding.Status? {
        finding(check, e)?.status
    }
}

extension JSONValue {
    static func strings(_ items: [String]) -> JSONValue { .array(items.map { .string($0) }) }
}
