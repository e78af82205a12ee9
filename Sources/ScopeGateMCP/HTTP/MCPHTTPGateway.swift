import Foundation
import MCP
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// The asynchronous authorization layer in front of an MCP HTTP endpoint, framework-agnostic (it speaks the
/// SDK's `HTTPRequest`/`HTTPResponse`; ``ScopeGateHTTPServer`` runs it on Hummingbird, tests call it directly).
///
/// - `GET /.well-known/oauth-protected-resource[/<resource path>]`: Protected Resource Metadata (RFC 9728).
/// - the MCP endpoint: the bearer token is verified (async, cached), then every JSON-RPC message of a `POST`
///   body is decided; `GET`/`DELETE` need only a valid token. Allowed requests go to `forward` together with
///   the ``Caller``; the token itself is never forwarded anywhere else (no token passthrough).
/// - `401` + `WWW-Authenticate: Bearer resource_metadata=…, scope=…` (+ `error="invalid_token"`) for a missing
///   or refused token; `403` + `error="insufficient_scope"` with the scopes to step up to (a batch: any element
///   denied → 403 with the union); `403` without a challenge when no scope can help (unknown tool, action or
///   method); `400` for unparsable bodies and `Mcp-Method`/`Mcp-Name` hints that disagree with the body;
///   `413` for bodies over the limit.
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

    /// Handles one HTTP request.
    public func handle(_ request: MCP.HTTPRequest) async -> MCP.HTTPResponse {
        let snapshot = authorizer.store.current
        let configuration = authorizer.configuration
        let path = request.path ?? "/"
        let method = request.method.uppercased()
        let paths = paths(snapshot)
        if paths.metadata.contains(path) {
            guard method == "GET" || method == "HEAD" else {
                return .error(
                    statusCode: 405, .invalidRequest("Method Not Allowed"), extraHeaders: ["Allow": "GET, HEAD"])
            }
            return .data(
                Data(
                    ProtectedResourceMetadata(
                        policy: snapshot.policy, resource: authorizer.resourceID(snapshot),
                        authorizationServers: configuration.authorizationServers
                    ).json.utf8),
                headers: [
                    "Content-Type": "application/json", "Cache-Control": "max-age=300",
                    "Access-Control-Allow-Origin": "*",
                ])
        }
        guard path == paths.endpoint else {
            return .error(statusCode: 404, .invalidRequest("Not Found"))
        }
        if let body = request.body, body.count > configuration.maxBodyBytes {
            return .error(
                statusCode: 413, .invalidRequest("request body larger than \(configuration.maxBodyBytes) bytes"))
        }

        if let bypass { return await forward(request, bypass) }
        let caller: Caller
        switch await authorizer.authenticate(authorization: request.header("Authorization"), snapshot: snapshot) {
        case .authenticated(let c):
            caller = c
        case .missing:
            return unauthorized(request, error: nil, snapshot: snapshot)
        case .invalid(let error):
            return unauthorized(request, error: error, snapshot: snapshot)
        }

        guard method == "POST" else { return await forward(request, caller) }
        guard let body = request.body, !body.isEmpty else {
            return .error(statusCode: 400, .parseError("empty request body"))
        }
        let calls: JSONRPCCalls
        do throws(JSONRPCCalls.Failure) {
            calls = try JSONRPCCalls.read(
                body, maxDepth: configuration.maxJSONDepth, maxBatch: configuration.maxBatchSize)
            try calls.checkHints(method: request.header("Mcp-Method"), name: request.header("Mcp-Name"))
        } catch {
            switch error.kind {
            case .parse: return .error(statusCode: 400, .parseError(error.message))
            case .invalid, .headerMismatch: return .error(statusCode: 400, .invalidRequest(error.message))
            }
        }

        var denied: [MCPAuthorizer.Outcome] = []
        for message in calls.messages {
            guard let call = message.call else { continue }
            let outcome = authorizer.decide(call, caller: caller, snapshot: snapshot)
            if !outcome.decision.allowed { denied.append(outcome) }
        }
        if denied.isEmpty { return await forward(request, caller) }

        if denied.allSatisfy({ $0.decision.reason == .missingScope }) {
            let challenge = authorizer.insufficientScopeChallenge(for: denied, caller: caller, snapshot: snapshot)
            let missing = Set(denied.flatMap(\.missing)).sorted()
            return .error(
                statusCode: 403,
                .serverError(code: -32003, message: "insufficient_scope: missing " + missing.joined(separator: " ")),
                extraHeaders: ["WWW-Authenticate": challenge])
        }
        // No scope can make these calls (unknown tool, action, resource, prompt or method): no step-up challenge.
        let reasons = Set(denied.map(\.decision.reason.rawValue)).sorted().joined(separator: ", ")
        return .error(statusCode: 403, .serverError(code: -32003, message: "forbidden: \(reasons)"))
    }

    func unauthorized(_ request: MCP.HTTPRequest, error: TokenError?, snapshot: PolicySnapshot) -> MCP.HTTPResponse {
        var call: Call?
        if let body = request.body, body.count <= authorizer.configuration.maxBodyBytes,
            let calls = try? JSONRPCCalls.read(body, maxDepth: authorizer.configuration.maxJSONDepth, maxBatch: 1),
            !calls.isBatch
        {
            call = calls.messages.first?.call
        }
        authorizer.auditInvalidToken(call, error: error, snapshot: snapshot)
        let challenge = authorizer.unauthorizedChallenge(for: call, error: error, snapshot: snapshot)
        let message = error.map { "invalid_token: \($0.message)" } ?? "unauthorized: a bearer token is required"
        return .error(
            statusCode: 401, .serverError(code: -32001, message: message),
            extraHeaders: ["WWW-Authenticate": challenge])
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
