import Foundation
import Hummingbird
import NIOCore
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
/// let service = AuthzService(store: store, configuration: .init(path: "/authz"),
///                            authenticate: { header, policy in await tokens.authentication(header, policy) })
/// let app = Application(responder: AuthzResponder(service: service), configuration: .init(address: .hostname("127.0.0.1", port: 9090)))
/// try await app.runService()
/// ```
public final class AuthzService: Sendable {
    /// Turns an `Authorization` header into an ``Authentication`` resolved against `policy` (verification,
    /// caching).
    public typealias Authenticate =
        @Sendable (_ authorization: String?, _ policy: CompiledPolicy) async -> Authentication

    public let store: PolicyStore
    public let configuration: AuthzConfiguration
    let authenticate: Authenticate
    /// Audit events and decision metrics.
    public let reporter: DecisionReporter
    /// `/healthz`, `/readyz` (ready while a policy is in force, which is from the start) and `/metrics`.
    public let endpoints: OperationsEndpoints

    /// - Parameters:
    ///   - reporter: where decisions are audited and counted (default: metrics only, to the process-wide
    ///     backend).
    ///   - prometheus: what `/metrics` exposes; nil: no `/metrics`.
    public init(
        store: PolicyStore, configuration: AuthzConfiguration, authenticate: @escaping Authenticate,
        reporter: DecisionReporter = DecisionReporter(audit: nil, metrics: ScopeGateMetrics()),
        prometheus: PrometheusMetrics? = nil
    ) {
        self.store = store
        self.configuration = configuration
        self.authenticate = authenticate
        self.reporter = reporter
        let readiness = Readiness(conditions: ["policy"])
        readiness.set("policy")  // built over a store, which always holds a compiled policy
        self.endpoints = OperationsEndpoints(readiness: readiness, prometheus: prometheus)
    }

    /// Decides one request with the policy in force: verifies the token, then authorizes from the body when
    /// there is one, else from the headers. Every answer of the decision path comes from here.
    public func decide(_ request: DecisionRequest) async -> AuthzDecision {
        let snapshot = store.current
        let policy = snapshot.policy
        let authentication = await authenticate(request.headers.authorization, policy)
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

    /// Handles one HTTP request: a decision, health, readiness or metadata. A request head over the limits is
    /// answered 431 first, whatever the path (the decision path with the JSON-RPC error and the reason header).
    public func respond(to request: Request) async -> Response {
        let path = request.uri.path
        let servicePath = configuration.path
        let isDecision =
            path == servicePath || path.hasPrefix(servicePath.hasSuffix("/") ? servicePath : servicePath + "/")
        let limits = configuration.authorization.limits
        if let rejection = limits.headRejection(
            method: request.method.rawValue, target: request.uri.description, authority: request.head.authority,
            fields: request.headers.lazy.map { ($0.name.rawName, $0.value) })
        {
            reporter.metrics.limitRefused(reason: rejection.code.id)
            guard isDecision else {
                return Self.answer(
                    431, [("Content-Type", "text/plain; charset=utf-8")],
                    Array("request header fields too large: \(rejection.message)\n".utf8))
            }
            return Self.answer(
                431, [("Content-Type", "application/json"), (AuthzDecision.Header.reason, rejection.code.id)],
                rejection.responseBody())
        }
        if isDecision {
            var request = request
            let limit = limits.maxBodyBytes
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: limit)
            } catch {
                let rejection = RequestRejection(.tooLarge, "request body larger than \(limit) bytes")
                reporter.metrics.limitRefused(reason: rejection.code.id)
                return Self.answer(
                    413, [("Content-Type", "application/json"), (AuthzDecision.Header.reason, rejection.code.id)],
                    rejection.responseBody())
            }
            let decisionRequest = DecisionRequest(
                method: request.method.rawValue, path: path,
                fields: request.headers.map { ($0.name.rawName, $0.value) }, body: Array(buffer.readableBytesView),
                servicePath: servicePath)
            let decision = await decide(decisionRequest)
            return Self.answer(decision.status, decision.headers, decision.body)
        }
        if let answer = endpoints.respond(path: path) {
            return Self.answer(answer.status, [("Content-Type", answer.contentType)], answer.body)
        }
        if configuration.servesMetadata {
            let policy = store.current.policy
            let metadata = ProtectedResourceMetadata(policy: policy, resource: configuration.resource)
            if metadata.paths(endpoint: configuration.endpoint(for: policy)).contains(path) {
                guard request.method == .get || request.method == .head else { return Self.answer(405, [], []) }
                return Self.answer(
                    200, [("Content-Type", "application/json"), ("Cache-Control", "max-age=300")],
                    Array(metadata.json.utf8))
            }
            if metadata.requirementsPaths(endpoint: configuration.endpoint(for: policy)).contains(path),
                let document = PublishedRequirements.document(policy: policy, resource: metadata.resource)
            {
                guard request.method == .get || request.method == .head else { return Self.answer(405, [], []) }
                return Self.answer(
                    200, [("Content-Type", "application/json"), ("Cache-Control", "max-age=300")],
                    Array(document.jsonText.utf8))
            }
        }
        return Self.answer(404, [("Content-Type", "text/plain; charset=utf-8")], Array("not found\n".utf8))
    }

    static func answer(_ status: Int, _ headers: [(String, String)], _ body: [UInt8]) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let fieldName = HTTPFields.Element.Name(name) else { continue }
            fields.append(HTTPFields.Element(name: fieldName, value: value))
        }
        return Response(
            status: .init(code: status), headers: fields,
            body: body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Serves an ``AuthzService`` with Hummingbird.
public struct AuthzResponder: HTTPResponder {
    public typealias Context = BasicRequestContext
    public let service: AuthzService

    public init(service: AuthzService) { self.service = service }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        await service.respond(to: request)
    }
}
