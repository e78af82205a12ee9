import Foundation
import ScopeGate
import ScopeGateOperations
import ScopeGateRequestAuthorization

/// An external authorization service for the proxies people already run (nginx `auth_request`, Caddy
/// `forward_auth`, Envoy `ext_authz` in HTTP mode): each decision request describes an MCP request, and the
/// answer is 200 (allow) or the refusal the proxy would send, for the front proxy to relay.
///
/// With a body, the request is authorized exactly as `scopegate proxy` authorizes it (``RequestAuthorizer/authorize(_:credential:)``:
/// the body decides, the headers are checked against it). Without one, the decision comes from `Mcp-Method`,
/// `Mcp-Name` and `Mcp-Param-*` (``RequestAuthorizer/authorizeHeaders(_:credential:)``), which needs 2026-07-28.
/// ``decide(_:)`` is the one place a request is decided, audited and counted (``DecisionReporter``; shadow mode
/// comes from the settings and the policy, as in the proxy); the routes around it are `/healthz`, `/readyz`,
/// `/metrics` (``OperationsEndpoints``) and Protected Resource Metadata.
///
/// ```swift
/// let service = AuthzService(
///     store: store, configuration: .init(path: "/authz"),
///     authenticate: { header, policy in
///         let (credential, token) = await tokens.verify(header, policy)
///         return Authentication(credential: credential, token: token)
///     })
/// try await AuthzServer(service: service, host: "127.0.0.1", port: 8081).run()
/// ```
public final class AuthzService: Sendable {
    /// Turns an `Authorization` header into an ``Authentication`` resolved against `policy` (verification,
    /// caching).
    public typealias Authenticate =
        @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> Authentication
    /// ``Authenticate`` when it needs no waiting (no token, or a token in the verified-token cache); nil when the
    /// token must be verified, and ``Authenticate`` runs. Lets the server answer on the connection's event loop,
    /// without a task per request.
    public typealias AuthenticateAtOnce =
        @Sendable (_ authorization: String?, _ policy: CompiledPolicy) -> Authentication?

    public let store: PolicyStore
    public let configuration: AuthzConfiguration
    let authenticate: Authenticate
    let authenticateAtOnce: AuthenticateAtOnce
    /// Audit events and decision metrics.
    public let reporter: DecisionReporter
    /// `/healthz`, `/readyz` (ready while a policy is in force, which is from the start) and `/metrics`.
    public let endpoints: OperationsEndpoints

    /// - Parameters:
    ///   - reporter: where decisions are audited and counted (default: metrics only, to the process-wide
    ///     backend).
    ///   - prometheus: what `/metrics` exposes; nil: no `/metrics`.
    ///   - authenticateAtOnce: the cache-hit path of `authenticate` (default: none, every request waits for
    ///     `authenticate`).
    public init(
        store: PolicyStore, configuration: AuthzConfiguration, authenticate: @escaping Authenticate,
        authenticateAtOnce: @escaping AuthenticateAtOnce = { _, _ in nil },
        reporter: DecisionReporter = DecisionReporter(audit: nil, metrics: ScopeGateMetrics()),
        prometheus: PrometheusMetrics? = nil
    ) {
        self.store = store
        self.configuration = configuration
        self.authenticate = authenticate
        self.authenticateAtOnce = authenticateAtOnce
        self.reporter = reporter
        let readiness = Readiness(conditions: ["policy"])
        readiness.set("policy")  // built over a store, which always holds a compiled policy
        self.endpoints = OperationsEndpoints(readiness: readiness, prometheus: prometheus)
    }

    /// Decides one request with the policy in force: verifies the token, then authorizes from the body when
    /// there is one, else from the headers. Every answer of the decision path comes from here.
    public func decide(_ request: DecisionRequest) async -> AuthzDecision {
        let snapshot = store.current
        let authorization = request.headers.authorization
        let authentication: Authentication
        if let known = authenticateAtOnce(authorization, snapshot.policy) {
            authentication = known
        } else {
            authentication = await authenticate(authorization, snapshot.policy)
        }
        return decide(request, authentication: authentication, snapshot: snapshot)
    }

    /// ``decide(_:)`` when the token needs no waiting (see ``AuthenticateAtOnce``); nil otherwise.
    func decideAtOnce(_ request: DecisionRequest) -> AuthzDecision? {
        let snapshot = store.current
        guard let authentication = authenticateAtOnce(request.headers.authorization, snapshot.policy) else {
            return nil
        }
        return decide(request, authentication: authentication, snapshot: snapshot)
    }

    /// The decision of `request` for an authenticated token, with `snapshot`'s policy: audited and counted.
    private func decide(
        _ request: DecisionRequest, authentication: Authentication, snapshot: PolicySnapshot
    ) -> AuthzDecision {
        let policy = snapshot.policy
        let authorizer = RequestAuthorizer(policy: policy, settings: configuration.effectiveAuthorization)
        let headerOnly = request.body.isEmpty && request.method == "POST"
        let deciding = DispatchTime.now().uptimeNanoseconds
        let verdict =
            headerOnly
            ? authorizer.authorizeHeaders(request.headers, credential: authentication.credential)
            : authorizer.authorize(
                MCPHTTPRequest(method: request.method, headers: request.headers, body: request.body),
                credential: authentication.credential)
        reporter.report(
            verdict, credential: authentication.credential, token: authentication.token, snapshot: snapshot,
            nanoseconds: DispatchTime.now().uptimeNanoseconds &- deciding)
        return AuthzDecision(verdict: verdict, authentication: authentication, headerOnly: headerOnly)
    }

    /// Whether `path` is the decision path (or under it, as Envoy's `path_prefix` sends it): the only path whose
    /// body is read.
    func isDecisionPath(_ path: String) -> Bool {
        let servicePath = configuration.path
        return path == servicePath || path.hasPrefix(servicePath.hasSuffix("/") ? servicePath : servicePath + "/")
    }

    /// The answer a request head decides alone: 431 for a head over the limits, whatever the path (the decision
    /// path with the JSON-RPC error and the reason header); nil when the request goes on. Checked before the body
    /// is read or the token looked at.
    func answerToHead(_ head: AuthzHTTPRequest.Head) -> AuthzHTTPAnswer? {
        guard
            let rejection = configuration.authorization.limits.headRejection(
                method: head.method, target: head.target, fields: head.fields)
        else { return nil }
        reporter.metrics.limitRefused(reason: rejection.code.id)
        guard isDecisionPath(head.path) else {
            return AuthzHTTPAnswer(
                status: 431, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: Array("request header fields too large: \(rejection.message)\n".utf8))
        }
        return AuthzHTTPAnswer(
            status: 431,
            headers: [("Content-Type", "application/json"), (AuthzDecision.Header.reason, rejection.code.id)],
            body: rejection.responseBody())
    }

    /// The answer to a request whose body is over the limit (413), counted as a limit refusal: on the decision path
    /// with the JSON-RPC error and the reason header, elsewhere a line of text (as ``answerToHead(_:)`` answers).
    func answerToOversizedBody(path: String) -> AuthzHTTPAnswer {
        let rejection = RequestRejection(
            .tooLarge, "request body larger than \(configuration.authorization.limits.maxBodyBytes) bytes")
        reporter.metrics.limitRefused(reason: rejection.code.id)
        guard isDecisionPath(path) else {
            return AuthzHTTPAnswer(
                status: 413, headers: [("Content-Type", "text/plain; charset=utf-8")],
                body: Array("request body too large: \(rejection.message)\n".utf8))
        }
        return AuthzHTTPAnswer(
            status: 413,
            headers: [("Content-Type", "application/json"), (AuthzDecision.Header.reason, rejection.code.id)],
            body: rejection.responseBody())
    }

    /// Answers one HTTP request whose head passed ``answerToHead(_:)`` and whose body is within the limit: a
    /// decision, health, readiness, metrics or metadata.
    func respond(to request: AuthzHTTPRequest) async -> AuthzHTTPAnswer {
        let path = request.head.path
        guard isDecisionPath(path) else { return respondBesideDecisions(method: request.head.method, path: path) }
        let decision = await decide(decisionRequest(request))
        return AuthzHTTPAnswer(decision)
    }

    /// ``respond(to:)`` when it needs no waiting: every path but a decision whose token must be verified; nil for
    /// that one.
    func respondAtOnce(to request: AuthzHTTPRequest) -> AuthzHTTPAnswer? {
        let path = request.head.path
        guard isDecisionPath(path) else { return respondBesideDecisions(method: request.head.method, path: path) }
        guard let decision = decideAtOnce(decisionRequest(request)) else { return nil }
        return AuthzHTTPAnswer(decision)
    }

    private func decisionRequest(_ request: AuthzHTTPRequest) -> DecisionRequest {
        DecisionRequest(
            method: request.head.method, path: request.head.path, fields: request.head.fields, body: request.body,
            servicePath: configuration.path)
    }

    /// `/healthz`, `/readyz`, `/metrics`, Protected Resource Metadata and its published requirements, or 404.
    func respondBesideDecisions(method: String, path: String) -> AuthzHTTPAnswer {
        if let answer = endpoints.respond(path: path) {
            return AuthzHTTPAnswer(
                status: answer.status, headers: [("Content-Type", answer.contentType)], body: answer.body)
        }
        if configuration.servesMetadata {
            let policy = store.current.policy
            let metadata = ProtectedResourceMetadata(policy: policy, resource: configuration.resource)
            let endpoint = configuration.endpoint(for: policy)
            var document: String?
            if metadata.paths(endpoint: endpoint).contains(path) {
                document = metadata.json
            } else if metadata.requirementsPaths(endpoint: endpoint).contains(path) {
                document = PublishedRequirements.document(policy: policy, resource: metadata.resource)?.jsonText
            }
            if let document {
                guard method == "GET" || method == "HEAD" else { return AuthzHTTPAnswer(status: 405) }
                return AuthzHTTPAnswer(
                    status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "max-age=300")],
                    body: Array(document.utf8))
            }
        }
        return AuthzHTTPAnswer(
            status: 404, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array("not found\n".utf8))
    }
}
