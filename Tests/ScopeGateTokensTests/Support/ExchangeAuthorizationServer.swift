import Foundation

@testable import ScopeGateTokens

/// An in-process authorization server that implements the RFC 8693 token endpoint's request validation honestly
/// (no real IdP in CI offers the grant: Debian's glewlwyd has none):
///
/// - `POST` with `application/x-www-form-urlencoded`; a repeated parameter is `invalid_request` (RFC 6749 §3.2);
/// - client authentication by HTTP Basic (form-decoded id and secret) or by `client_id`/`client_secret` in the
///   body, never both (`invalid_request`); wrong or missing credentials are `401 invalid_client`;
/// - `grant_type` must be the token-exchange URN (`unsupported_grant_type`);
/// - `subject_token` and `subject_token_type` are required (`invalid_request`); the type must be the access-token URN;
///   `requested_token_type`, when present, must be the access-token URN;
/// - the subject token must be one this server issued and not expired at the injected clock (`invalid_grant`);
/// - at least one `audience` or `resource`; a `resource` must be an absolute URI without fragment; every target must
///   be registered (`invalid_target`);
/// - the requested `scope` must be a subset of what the target allows (`invalid_scope`); none requested → all of them;
/// - the answer: `access_token` (a JWT-shaped token with `aud`, `scope`, `jti`, `exp`, `act`), `issued_token_type`,
///   `token_type: Bearer`, `expires_in`, `scope`.
final class ExchangeAuthorizationServer: @unchecked Sendable {
    static let tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
    static let accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

    let issuer = "https://auth.example.com"
    let clientID: String
    let clientSecret: String
    let clock: TestClock
    /// Allowed downstream targets and the scopes each may receive.
    var targets: [String: Set<String>]
    /// Lifetime of issued tokens.
    var lifetime: Int

    struct Recorded: Sendable {
        let headers: [String: String]
        let form: [(String, String)]
        func value(_ name: String) -> String? { form.first { $0.0 == name }?.1 }
        func values(_ name: String) -> [String] { form.filter { $0.0 == name }.map(\.1) }
    }

    private let lock = NSLock()
    private var subjects: [String: Date] = [:]
    private var _requests: [Recorded] = []
    private var _issued: [String] = []
    private var serial = 0

    init(
        clientID: String = "mcp server", clientSecret: String = "s3cr:et", clock: TestClock,
        targets: [String: Set<String>] = ["https://api.example.com": ["api:read", "api:write"]], lifetime: Int = 300
    ) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clock = clock
        self.targets = targets
        self.lifetime = lifetime
    }

    var requests: [Recorded] { lock.withLock { _requests } }
    var requestCount: Int { lock.withLock { _requests.count } }
    var issuedTokens: [String] { lock.withLock { _issued } }

    /// A caller token this server accepts as `subject_token` until `lifetime` seconds from now.
    func subjectToken(lifetime: TimeInterval = 600) -> String {
        lock.withLock {
            serial += 1
            let token = "caller-token-\(serial)-\(UUID().uuidString)"
            subjects[token] = clock.now().addingTimeInterval(lifetime)
            return token
        }
    }

    static func formDecode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
    }

    func error(_ status: Int, _ code: String, _ description: String) -> HTTPResponse {
        var headers = ["Content-Type": "application/json", "Cache-Control": "no-store"]
        if status == 401 { headers["WWW-Authenticate"] = "Basic realm=\"token\"" }
        return HTTPResponse(
            status: status, headers: headers, body: Array(json(["error": code, "error_description": description]).utf8))
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "POST" else { return error(405, "invalid_request", "POST only") }
        let contentType = request.headers.first { $0.key.lowercased() == "content-type" }?.value ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return error(400, "invalid_request", "form body required")
        }
        let form: [(String, String)] = String(decoding: request.body, as: UTF8.self).split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.formDecode(kv[0]), kv.count > 1 ? Self.formDecode(kv[1]) : "")
        }
        let recorded = Recorded(headers: request.headers, form: form)
        lock.withLock { _requests.append(recorded) }
        var seen: Set<String> = []
        for (name, _) in form where name != "audience" && name != "resource" {
            guard seen.insert(name).inserted else { return error(400, "invalid_request", "repeated parameter \(name)") }
        }

        // Client authentication: exactly one method.
        let basic = request.headers.first { $0.key.lowercased() == "authorization" }?.value
        let posted = recorded.value("client_secret")
        if basic != nil && posted != nil {
            return error(400, "invalid_request", "more than one client authentication method")
        }
        var authenticated = false
        if let basic, basic.hasPrefix("Basic "), let data = Data(base64Encoded: String(basic.dropFirst(6))) {
            let pair = String(decoding: data, as: UTF8.self).split(
                separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            authenticated =
                pair.count == 2 && Self.formDecode(pair[0]) == clientID && Self.formDecode(pair[1]) == clientSecret
        } else if let posted {
            authenticated = recorded.value("client_id") == clientID && posted == clientSecret
        }
        guard authenticated else { return error(401, "invalid_client", "client authentication failed") }

        guard recorded.value("grant_type") == Self.tokenExchange else {
            return error(400, "unsupported_grant_type", "grant type not supported")
        }
        guard let subject = recorded.value("subject_token"), !subject.isEmpty else {
            return error(400, "invalid_request", "subject_token is required")
        }
        guard recorded.value("subject_token_type") == Self.accessTokenType else {
            return error(400, "invalid_request", "unsupported subject_token_type")
        }
        if let requested = recorded.value("requested_token_type"), requested != Self.accessTokenType {
            return error(400, "invalid_request", "unsupported requested_token_type")
        }
        let now = clock.now()
        guard let expiry = lock.withLock({ subjects[subject] }), now < expiry else {
            return error(400, "invalid_grant", "subject_token is invalid or expired")
        }
        let audiences = recorded.values("audience")
        let resources = recorded.values("resource")
        let requestedTargets = audiences + resources
        guard !requestedTargets.isEmpty else { return error(400, "invalid_target", "audience or resource required") }
        for resource in resources {
            guard let url = URL(string: resource), url.scheme != nil, url.fragment == nil else {
                return error(400, "invalid_target", "resource must be an absolute URI")
            }
        }
        var allowed: Set<String>?
        for target in requestedTargets {
            guard let scopes = targets[target] else { return error(400, "invalid_target", "unknown target") }
            allowed = allowed.map { $0.intersection(scopes) } ?? scopes
        }
        let requestedScopes = Set((recorded.value("scope") ?? "").split(separator: " ").map(String.init))
        guard requestedScopes.isSubset(of: allowed ?? []) else {
            return error(400, "invalid_scope", "scope not allowed for the target")
        }
        let granted = (requestedScopes.isEmpty ? (allowed ?? []) : requestedScopes).sorted().joined(separator: " ")

        let jti = lock.withLock { () -> String in
            serial += 1
            return "issued-\(serial)"
        }
        let claims: [String: Any] = [
            "iss": issuer, "aud": requestedTargets.count == 1 ? requestedTargets[0] as Any : requestedTargets as Any,
            "scope": granted, "jti": jti, "iat": Int(now.timeIntervalSince1970),
            "exp": Int(now.timeIntervalSince1970) + lifetime, "act": ["sub": clientID],
        ]
        let token =
            b64url(json(["alg": "RS256", "typ": "at+jwt"])) + "." + b64url(json(claims)) + "." + b64url("sig-\(jti)")
        lock.withLock { _issued.append(token) }
        return HTTPResponse(
            status: 200, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
            body: Array(
                json([
                    "access_token": token, "issued_token_type": Self.accessTokenType,
                    "token_type": "Bearer", "expires_in": lifetime, "scope": granted,
                ]).utf8))
    }
}

/// Opens once, releasing every waiter (a test-controlled point in a fake request).
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = lock.withLock { () -> Bool in
                if open { return true }
                waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    func release() {
        let pending = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            open = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in pending { waiter.resume() }
    }
}

/// The token endpoint of an ``ExchangeAuthorizationServer`` as an ``HTTPFetcher``; with a gate, every request
/// waits for it before being answered.
struct ExchangeFetcher: HTTPFetcher {
    let server: ExchangeAuthorizationServer
    var gate: Gate?
    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        if let gate { await gate.wait() }
        return server.handle(request)
    }
}
