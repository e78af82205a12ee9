import Foundation
import MCP
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// The asynchronous authorization layer in front of an MCP HTTP endpoint, framework-agnostic (it speaks the
/// SDK's `HTTPRequest`/`HTTPResponse`; ``ScopeGateHTTPServer`` runs it on Hummingbird, tests call it directly).
///
/// - `GET /.well-known/oauth-protected-resource[/<resource path>]`: Protected Resource Metadata (RFC 9728); with
///   `resource.publish_requirements`, the public requirements document it links
///   (`/.well-known/scopegate-requirements[/<resource path>]`).
/// - the MCP endpoint: the bearer token is verified (async, cached), then the request is authorized by the
///   ``RequestAuthorizer`` that `scopegate proxy` and `scopegate authz` use (``MCPAuthorizer/requestAuthorizer(_:)``):
///   every JSON-RPC message of a `POST` body is decided; `GET`/`DELETE` need only a valid token. Allowed
///   requests go to `forward` together with the ``Caller``; the token itself is never forwarded anywhere else
///   (no token passthrough).
/// - `401` + `WWW-Authenticate: Bearer resource_metadata=…, scope=…` (+ `error="invalid_token"`) for a missing
///   or refused token; `403` + `error="insufficient_scope"` with the scopes the operation needs (a batch: any
///   element denied → 403 with the union); `403` without a challenge when no scope can help (unknown tool,
///   action or method); `400` for unparsable bodies, `Mcp-Method`/`Mcp-Name` hints that disagree with the body
///   and protocol revisions the SDK does not speak; `413` for bodies over the limit.
///
/// ```swift
/// let gateway = MCPHTTPGateway(authorizer: authorizer) { request, caller in
///     await router.handle(request, caller: caller)
/// }
/// let response = await gateway.handle(MCP.HTTPRequest(method: "POST", headers: headers, body: body, path: "/mcp"))
/// ```
public final class MCPHTTPGateway: Sendable {
    /// Where allowed requests go, with the authenticated caller.
    public typealias Forward = @Sendable (MCP.HTTPRequest, Caller) async -> MCP.HTTPResponse

    public let authorizer: MCPAuthorizer
    let endpointPathOverride: String?
    let forward: Forward
    let bypass: Caller?
    let pathCache = LockedValue<Paths?>(nil)

    /// - Parameters:
    ///   - authorizer: tokens, policy and reporting.
    ///   - endpointPath: the MCP endpoint path; default: the path of the resource id (e.g. `/mcp`), else `/mcp`.
    ///   - forward: the next layer, e.g. ``MCPSessionRouter/handle(_:caller:)``.
    public init(authorizer: MCPAuthorizer, endpointPath: String? = nil, forward: @escaping Forward) {
        self.authorizer = authorizer
        self.endpointPathOverride = endpointPath
        self.forward = forward
        self.bypass = nil
    }

    /// A gateway that does **no** authentication or authorization: every request to the endpoint is forwarded
    /// with `caller`. Only for measuring the cost of authorization (the load test's baseline); never deploy it.
    public init(
        authorizer: MCPAuthorizer, endpointPath: String? = nil, bypassAuthorization caller: Caller,
        forward: @escaping Forward
    ) {
        self.authorizer = authorizer
        self.endpointPathOverride = endpointPath
        self.forward = forward
        self.bypass = caller
    }

    /// The MCP endpoint path in force.
    public func endpointPath(_ snapshot: PolicySnapshot? = nil) -> String {
        paths(snapshot ?? authorizer.store.current).endpoint
    }

    /// Paths of the Protected Resource Metadata: path form first, then the root form.
    public func metadataPaths(_ snapshot: PolicySnapshot? = nil) -> [String] {
        paths(snapshot ?? authorizer.store.current).metadata
    }

    struct Paths {
        let resourceID: String?
        let endpoint: String
        let metadata: [String]
    }

    /// The endpoint and metadata paths, parsed from the resource id once per resource id (not per request).
    func paths(_ snapshot: PolicySnapshot) -> Paths {
        let id = authorizer.resourceID(snapshot)
        if let cached = pathCache.withLock({ $0 }), cached.resourceID == id { return cached }
        let endpoint: String
        if let endpointPathOverride {
            endpoint = endpointPathOverride
        } else if let id, let url = URL(string: id), !url.path.isEmpty {
            endpoint = url.path
        } else {
            endpoint = "/mcp"
        }
        let root = "/.well-known/oauth-protected-resource"
        let paths = Paths(
            resourceID: id, endpoint: endpoint, metadata: endpoint == "/" ? [root] : [root + endpoint, root])
        pathCache.withLock { $0 = paths }
        return paths
    }

    /// Handles one HTTP request. A refusal is answered in the SDK's `HTTPResponse`, which carries one JSON-RPC
    /// error without `id` or `data`; ``GatewayResponder`` (``ScopeGateHTTPServer``) answers refusals with the
    /// verdict's full body instead, as `scopegate proxy` does.
    public func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        switch await answer(request) {
        case .response(let response): return response
        case .refused(let verdict): return Self.response(for: verdict)
        }
    }

    /// What the gateway answers: the SDK-typed response (metadata, 404, the forwarded request's), or a refusal
    /// by the request authorization.
    enum Answer: Sendable {
        case response(MCP.HTTPResponse)
        case refused(AuthorizationVerdict)
    }

    func answer(_ request: MCP.HTTPRequest) async -> Answer {
        let snapshot = authorizer.store.current
        let configuration = authorizer.configuration
        let path = request.path ?? "/"
        let method = request.method.uppercased()
        let paths = paths(snapshot)
        let metadata = ProtectedResourceMetadata(
            policy: snapshot.policy, resource: authorizer.resourceID(snapshot),
            authorizationServers: configuration.authorizationServers)
        let document: JSONValue? =
            metadata.requirementsPaths(endpoint: paths.endpoint).contains(path)
            ? PublishedRequirements.document(policy: snapshot.policy, resource: metadata.resource) : nil
        if paths.metadata.contains(path) || document != nil {
            guard method == "GET" || method == "HEAD" else {
                return .response(
                    .error(statusCode: 405, .invalidRequest("Method Not Allowed"), extraHeaders: ["Allow": "GET, HEAD"])
                )
            }
            // The Protected Resource Metadata, or the public requirements document it links (when the policy
            // opts in with `resource.publish_requirements`).
            return .response(
                .data(
                    Data((document?.jsonText ?? metadata.json).utf8),
                    headers: [
                        "Content-Type": "application/json", "Cache-Control": "max-age=300",
                        "Access-Control-Allow-Origin": "*",
                    ]))
        }
        guard path == paths.endpoint else {
            return .response(.error(statusCode: 404, .invalidRequest("Not Found")))
        }
        if let bypass { return .response(await forward(request, bypass)) }

        // An oversized body is refused (413) before any token work: no verification is spent on it.
        let oversized = (request.body?.count ?? 0) > configuration.maxBodyBytes
        let authentication: MCPAuthorizer.Authentication =
            oversized
            ? .missing
            : await authorizer.authenticate(authorization: request.header("Authorization"), snapshot: snapshot)
        let verdict = authorizer.authorize(
            MCPHTTPRequest(
                method: method, headers: MCPRequestHeaders(request.headers.map { ($0.key, $0.value) }),
                body: request.body.map { Array($0) }),
            authentication: authentication, snapshot: snapshot)
        if verdict.allowed, case .authenticated(let caller) = authentication {
            return .response(await forward(request, caller.resolved(against: snapshot.policy)))
        }
        return .refused(verdict)
    }

    /// The SDK response of a refusal: its status, its `WWW-Authenticate` and its first JSON-RPC error. The
    /// SDK's `HTTPResponse` carries one error without `id` or `data`; `scopegate proxy` answers the same
    /// verdict with every message's error and its `data` (`reason`, `missing`, `required`, `rule`).
    static func response(for verdict: AuthorizationVerdict) -> MCP.HTTPResponse {
        var headers: [String: String] = [:]
        if let challenge = verdict.wwwAuthenticate { headers["WWW-Authenticate"] = challenge }
        if verdict.status == 405 { headers["Allow"] = "POST" }
        let error = verdict.error ?? JSONRPCError(code: ScopeGateErrorCode.forbidden, message: "forbidden")
        return .error(
            statusCode: verdict.allowed ? 403 : verdict.status,
            .serverError(code: error.code, message: error.message), extraHeaders: headers)
    }
}

/// A synchronous SDK validator that admits only requests whose bearer token is already in the authorizer's
/// verified-token cache (filled by ``MCPHTTPGateway``): cache-only work, no I/O. Put it in the transport's
/// pipeline as defense in depth, so a transport reached without the gateway fails closed.
///
/// ```swift
/// let router = MCPSessionRouter(validators: [CachedTokenValidator(authorizer: authorizer)]) { makeServer() }
/// ```
public struct CachedTokenValidator: HTTPRequestValidator {
    let authorizer: MCPAuthorizer

    /// A validator over `authorizer`'s cache.
    public init(authorizer: MCPAuthorizer) { self.authorizer = authorizer }

    public func validate(_ request: MCP.HTTPRequest, context: HTTPValidationContext) -> MCP.HTTPResponse? {
        if authorizer.hasCachedToken(authorization: request.header("Authorization")) { return nil }
        let challenge = authorizer.unauthorizedChallenge(for: nil, error: nil)
        return .error(
            statusCode: 401, .serverError(code: -32001, message: "unauthorized: a bearer token is required"),
            sessionID: context.sessionID, extraHeaders: ["WWW-Authenticate": challenge])
    }
}
