import ScopeGate
import ScopeGateRequestAuthorization

/// The original MCP request as a front proxy describes it to the decision service.
///
/// Each proxy sends it its own way:
/// - nginx `auth_request`: a subrequest with the original headers, `X-Original-Method` and `X-Original-URI` as the
///   configuration sets them, and no body;
/// - Caddy `forward_auth`: a `GET` with the copied headers, `X-Forwarded-Method` and `X-Forwarded-Uri`;
/// - Envoy `ext_authz` (HTTP service): the original method and headers, the original path after the configured
///   `path_prefix`, and the body when `with_request_body` is set.
///
/// The method decided on is `POST` when any of the request's method, `X-Original-Method` and `X-Forwarded-Method`
/// says `POST`: a header a client slipped past its proxy can only make the decision stricter, never turn a call
/// into a bodiless `GET` that needs no tool scope.
///
/// ```swift
/// let request = DecisionRequest(method: "GET", path: "/authz", fields: [("X-Forwarded-Method", "POST")], body: [])
/// request.method   // "POST"
/// request.front    // .caddy
/// ```
public struct DecisionRequest: Sendable {
    /// The front proxy the request's shape points to (for logs and the allow headers; never for trust).
    public enum Front: String, Sendable, Hashable {
        case nginx, caddy, envoy
    }

    /// The method decided on (see the type's discussion).
    public var method: String
    /// The original request target, when the front proxy passed it (`X-Original-URI`, `X-Forwarded-Uri`, or the
    /// path after the service path for Envoy).
    public var uri: String?
    public var headers: MCPRequestHeaders
    /// The original body; empty when the front proxy sends none.
    public var body: [UInt8]
    public var front: Front

    /// Reads a decision request.
    /// - Parameters:
    ///   - method: the decision request's own method.
    ///   - path: its path (`/authz`, or `/authz/mcp` from Envoy's `path_prefix`).
    ///   - servicePath: the service's configured path; what follows it in `path` is the original path (Envoy).
    public init(
        method: String, path: String, fields: [(String, String)], body: [UInt8], servicePath: String = "/authz"
    ) {
        var originalMethod: String?
        var forwardedMethod: String?
        var originalURI: String?
        var forwardedURI: String?
        // Every name read here starts with `x`: the others are skipped at their first byte.
        for (name, value) in fields where name.utf8.first.map({ $0 | 0x20 }) == UInt8(ascii: "x") {
            if ASCIICase.equals(name, "x-original-method") {
                originalMethod = value
            } else if ASCIICase.equals(name, "x-forwarded-method") {
                forwardedMethod = value
            } else if ASCIICase.equals(name, "x-original-uri") {
                originalURI = value
            } else if ASCIICase.equals(name, "x-forwarded-uri") {
                forwardedURI = value
            }
        }
        let saysPOST = [method, originalMethod, forwardedMethod].contains { $0.map(Self.saysPOST) ?? false }
        self.method = saysPOST ? "POST" : (originalMethod ?? forwardedMethod ?? method).uppercased()
        if originalURI != nil || originalMethod != nil {
            front = .nginx
            uri = originalURI
        } else if forwardedURI != nil || forwardedMethod != nil {
            front = .caddy
            uri = forwardedURI
        } else {
            front = .envoy
            uri = path.count > servicePath.count ? String(path.dropFirst(servicePath.count)) : nil
        }
        self.headers = MCPRequestHeaders(fields)
        self.body = body
    }

    /// Whether `method` is `POST` once uppercased with Unicode's rules, so that `poſt` (long s) counts too. ASCII,
    /// which every real method is, is compared in place; only other text is uppercased.
    static func saysPOST(_ method: String) -> Bool {
        guard method.utf8.withContiguousStorageIfAvailable(UTF8Text.isASCII) == true else {
            return method.uppercased() == "POST"
        }
        return ASCIICase.equals(method, "post")
    }
}
