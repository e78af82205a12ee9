import ScopeGate
import ScopeGateRequestAuthorization

/// The decision service's answer to one decision request: the verdict of ``RequestAuthorizer`` and the HTTP
/// answer the front proxy acts on.
///
/// - allow: 200, no body, and headers the front proxy may copy upstream: `X-ScopeGate-Subject`,
///   `X-ScopeGate-Client` and `X-ScopeGate-Scopes` (the recognized granted scopes). All three are always sent,
///   empty when the token does not say: Caddy 2.6's `copy_headers` forwards the literal placeholder text for a
///   header the answer lacks. Values outside plain ASCII use the MCP Base64 sentinel. The token is never among
///   them.
/// - refusal: the verdict's status (400, 401, 403, 405, 413), the proxy's `WWW-Authenticate` challenge, the
///   JSON-RPC error body, and `X-ScopeGate-Reason` (for nginx, whose `auth_request` drops the body).
///
/// ```swift
/// let decision = await service.decide(request)
/// decision.status        // 403
/// decision.headers       // [("WWW-Authenticate", "Bearer error=\"insufficient_scope\", …"), …]
/// ```
public struct AuthzDecision: Sendable {
    public var verdict: AuthorizationVerdict
    public var authentication: Authentication
    /// Decided from `Mcp-Method`, `Mcp-Name` and `Mcp-Param-*` alone (no body came).
    public var headerOnly: Bool

    /// The names of the headers an allow answer carries.
    public enum Header {
        public static let subject = "X-ScopeGate-Subject"
        public static let client = "X-ScopeGate-Client"
        public static let scopes = "X-ScopeGate-Scopes"
        public static let reason = "X-ScopeGate-Reason"
    }

    public var status: Int { verdict.status }

    /// A short, stable reason: `allowed`, the policy's reason of the first refused message (`missing_scope`,
    /// `missing_header`, `unknown_tool`, …), `no_token`, `invalid_token`, or the rejection's code
    /// (`request.header_mismatch`, …).
    public var reason: String {
        switch verdict.outcome {
        case .allow: return "allowed"
        case .forbidden: return verdict.decisions.first(where: \.refuses)?.reason ?? "forbidden"
        case .reject: return verdict.rejection?.code.id ?? "request.invalid"
        case .unauthorized:
            if case .invalid = authentication.credential { return "invalid_token" }
            return "no_token"
        }
    }

    /// The answer's headers (`Content-Type` included for a body).
    public var headers: [(String, String)] {
        guard verdict.allowed else {
            var out: [(String, String)] = [("Content-Type", "application/json"), (Header.reason, reason)]
            if let challenge = verdict.wwwAuthenticate { out.append(("WWW-Authenticate", challenge)) }
            return out
        }
        var scopes = ""
        if case .granted(let grant, _, _) = authentication.credential {
            scopes = grant.recognized.joined(separator: " ")
        }
        return [
            (Header.subject, HeaderValueEncoding.encode(authentication.subject ?? "")),
            (Header.client, HeaderValueEncoding.encode(authentication.clientID ?? "")),
            (Header.scopes, HeaderValueEncoding.encode(scopes)),
        ]
    }

    /// The answer's body: the JSON-RPC error of a refusal, empty when allowed.
    public var body: [UInt8] { verdict.allowed ? [] : verdict.body ?? [] }
}
