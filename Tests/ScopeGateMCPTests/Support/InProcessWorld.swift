import Crypto
import CryptoExtras
import Foundation
import MCP
import ScopeGate
import ScopeGateMCP
import ScopeGateTokens

@testable import climate_server

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// MARK: - JOSE helpers (swift-crypto directly)

func b64url(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func jsonText(_ object: Any) -> String {
    guard
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
}

/// An RSA signing key with a kid (shared statics: 2048-bit generation is slow).
struct SigningKey: Sendable {
    let key: _RSA.Signing.PrivateKey?
    let kid: String

    static let main = SigningKey(kid: "test-key-1")
    static let rogue = SigningKey(kid: "rogue-key")

    init(kid: String) {
        self.kid = kid
        self.key = try? _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    var jwk: [String: Any] {
        let p = try? key?.publicKey.getKeyPrimitives()
        return [
            "kty": "RSA", "n": b64url(p?.modulus ?? Data()), "e": b64url(p?.publicExponent ?? Data()),
            "kid": kid, "alg": "RS256", "use": "sig",
        ]
    }

    func sign(_ claims: [String: Any], typ: String = "at+jwt") -> String {
        let header = jsonText(["alg": "RS256", "typ": typ, "kid": kid])
        let input = b64url(Array(header.utf8)) + "." + b64url(Array(jsonText(claims).utf8))
        let signature =
            (try? key?.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5))?
            .rawRepresentation ?? Data()
        return input + "." + b64url(signature)
    }
}

// MARK: - In-process hosts reached through URLSession

typealias HostHandler =
    @Sendable (_ method: String, _ url: URL, _ headers: [String: String], _ body: Data?) async
    -> (status: Int, headers: [String: String], body: Data)

final class HostRegistry: @unchecked Sendable {
    static let shared = HostRegistry()
    private let lock = NSLock()
    private var hosts: [String: HostHandler] = [:]
    func register(_ host: String, _ handler: @escaping HostHandler) { lock.withLock { hosts[host] = handler } }
    func handler(_ host: String?) -> HostHandler? { host.flatMap { h in lock.withLock { hosts[h.lowercased()] } } }
}

/// Routes `https://<registered host>/…` to in-process handlers (the MCP server and the authorization server).
final class InProcessURLProtocol: URLProtocol {
    override class func canInit(with request: URLRequest) -> Bool {
        HostRegistry.shared.handler(request.url?.host) != nil
    }
    override class func canonicalRequest(for request: URLRequest) -> URLRequest { request }

    override func startLoading() {
        let request = self.request
        guard let url = request.url, let handler = HostRegistry.shared.handler(url.host) else {
            client?.urlProtocol(self, didFailWithError: URLError(.cannotFindHost))
            return
        }
        var body = request.httpBody
        if body == nil, let stream = request.httpBodyStream {
            var data = Data()
            stream.open()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while stream.hasBytesAvailable {
                let n = stream.read(&buffer, maxLength: buffer.count)
                if n <= 0 { break }
                data.append(buffer, count: n)
            }
            stream.close()
            body = data
        }
        let headers = request.allHTTPHeaderFields ?? [:]
        let method = request.httpMethod ?? "GET"
        let box = UncheckedBox(self)
        let sentBody = body
        Task {
            let me = box.value
            let (status, responseHeaders, data) = await handler(method, url, headers, sentBody)
            let response = HTTPURLResponse(
                url: url, statusCode: status, httpVersion: "HTTP/1.1", headerFields: responseHeaders)
            if let response { me.client?.urlProtocol(me, didReceive: response, cacheStoragePolicy: .notAllowed) }
            me.client?.urlProtocol(me, didLoad: data)
            me.client?.urlProtocolDidFinishLoading(me)
        }
    }

    override func stopLoading() {}
}

struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

// MARK: - The authorization server

/// A minimal OAuth authorization server: RFC 8414 metadata, client credentials with HTTP Basic, RFC 8707
/// `resource` → `aud`, RS256 `at+jwt` access tokens, JWKS.
final class TestAuthorizationServer: @unchecked Sendable {
    let issuer: String
    let key: SigningKey
    let clientID = "climate-bot"
    let clientSecret = "s3cret"
    /// The MCP server's own client at this server, for RFC 8693 token exchange.
    let serverClientID = "climate-mcp"
    static let serverClientSecret = "mcp-s3cret"
    private let lock = NSLock()
    private var _tokenRequests: [[String: String]] = []
    private var _exchangeRequests: [(headers: [String: String], form: [String: String])] = []
    private var _issued: [String: Date] = [:]
    private var _exchanged: [String] = []
    private var _targets: [String: Set<String>] = [
        "https://crm.climate.example.com": ["crm:clients:read", "crm:clients:write"]
    ]
    private var _serverSecret = TestAuthorizationServer.serverClientSecret
    private var _unavailable = false
    private var serial = 0
    /// Client-credentials requests (not exchanges).
    var tokenRequests: [[String: String]] { lock.withLock { _tokenRequests } }
    /// Token-exchange requests as received.
    var exchangeRequests: [(headers: [String: String], form: [String: String])] { lock.withLock { _exchangeRequests } }
    /// Every access token issued to MCP clients (the tokens that must never reach a downstream API).
    var issuedCallerTokens: [String] { lock.withLock { Array(_issued.keys) } }
    /// Every token issued by exchange.
    var exchangedTokens: [String] { lock.withLock { _exchanged } }
    /// Downstream audiences this server exchanges for, and the scopes each may get.
    func setTargets(_ targets: [String: Set<String>]) { lock.withLock { _targets = targets } }
    /// The secret it expects from the MCP server's client.
    func setServerSecret(_ secret: String) { lock.withLock { _serverSecret = secret } }
    /// Answer 503 to token exchange.
    func setUnavailable(_ down: Bool) { lock.withLock { _unavailable = down } }

    init(issuer: String, key: SigningKey = .main) {
        self.issuer = issuer
        self.key = key
    }

    var jwks: String { jsonText(["keys": [key.jwk]]) }

    func token(
        scope: String, audience: Any?, lifetime: TimeInterval = 3600, now: Date = Date(), key: SigningKey? = nil,
        extra: [String: Any] = [:]
    ) -> String {
        var claims: [String: Any] = [
            "iss": issuer, "sub": clientID, "client_id": clientID, "scope": scope,
            "iat": Int(now.timeIntervalSince1970), "exp": Int(now.timeIntervalSince1970 + lifetime),
            "jti": UUID().uuidString,
        ]
        if let audience { claims["aud"] = audience }
        for (k, v) in extra { claims[k] = v }
        let token = (key ?? self.key).sign(claims)
        lock.withLock { _issued[token] = now.addingTimeInterval(lifetime) }
        return token
    }

    /// RFC 8693 at the token endpoint, validated honestly: client authentication of the MCP server's own client
    /// (Basic or post, not both), grant type, `subject_token` issued here and unexpired, `subject_token_type`,
    /// a registered `audience`, `scope` within what the audience allows. Issues an RS256 JWT for the audience.
    func exchange(headers: [String: String], form: [String: String]) -> (
        status: Int, headers: [String: String], body: Data
    ) {
        let json = ["Content-Type": "application/json"]
        func error(_ status: Int, _ code: String) -> (Int, [String: String], Data) {
            (
                status, json,
                Data(
                    jsonText(["error": code, "error_description": code.replacingOccurrences(of: "_", with: " ")]).utf8)
            )
        }
        let (targets, secret, down) = lock.withLock { () -> ([String: Set<String>], String, Bool) in
            _exchangeRequests.append((headers, form))
            return (_targets, _serverSecret, _unavailable)
        }
        if down { return error(503, "temporarily_unavailable") }
        let authorization = headers.first { $0.key.lowercased() == "authorization" }?.value
        if authorization != nil && form["client_secret"] != nil { return error(400, "invalid_request") }
        let basic = "Basic " + Data("\(serverClientID):\(secret)".utf8).base64EncodedString()
        guard
            authorization == basic
                || (authorization == nil && form["client_id"] == serverClientID && form["client_secret"] == secret)
        else {
            return error(401, "invalid_client")
        }
        guard form["subject_token_type"] == "urn:ietf:params:oauth:token-type:access_token",
            let subject = form["subject_token"]
        else { return error(400, "invalid_request") }
        guard let expiry = lock.withLock({ _issued[subject] }), Date() < expiry else {
            return error(400, "invalid_grant")
        }
        guard let audience = form["audience"], let allowed = targets[audience] else {
            return error(400, "invalid_target")
        }
        let scopes = Set((form["scope"] ?? "").split(separator: " ").map(String.init))
        guard scopes.isSubset(of: allowed) else { return error(400, "invalid_scope") }
        let now = Date()
        let jti = lock.withLock { () -> String in
            serial += 1
            return "exchanged-\(serial)"
        }
        let claims: [String: Any] = [
            "iss": issuer, "sub": clientID, "aud": audience, "scope": scopes.sorted().joined(separator: " "),
            "client_id": serverClientID, "act": ["sub": serverClientID], "jti": jti,
            "iat": Int(now.timeIntervalSince1970), "exp": Int(now.timeIntervalSince1970) + 300,
        ]
        let token = key.sign(claims, typ: "JWT")
        lock.withLock { _exchanged.append(token) }
        return (
            200, json,
            Data(
                jsonText([
                    "access_token": token, "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                    "token_type": "Bearer", "expires_in": 300, "scope": scopes.sorted().joined(separator: " "),
                ]).utf8)
        )
    }

    func handle(method: String, url: URL, headers: [String: String], body: Data?) -> (
        status: Int, headers: [String: String], body: Data
    ) {
        let json = ["Content-Type": "application/json"]
        switch (method, url.path) {
        case ("GET", "/.well-known/oauth-authorization-server"), ("GET", "/.well-known/openid-configuration"):
            let metadata: [String: Any] = [
                "issuer": issuer, "token_endpoint": issuer + "/token", "jwks_uri": issuer + "/jwks",
                "grant_types_supported": ["client_credentials"], "response_types_supported": ["token"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            ]
            return (200, json, Data(jsonText(metadata).utf8))
        case ("GET", "/jwks"):
            return (200, json, Data(jwks.utf8))
        case ("POST", "/token"):
            var form: [String: String] = [:]
            for pair in String(decoding: body ?? Data(), as: UTF8.self).split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
                }
                if kv.count == 2 { form[kv[0]] = kv[1] }
            }
            if form["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange" {
                return exchange(headers: headers, form: form)
            }
            lock.withLock { _tokenRequests.append(form) }
            let authorization = headers.first { $0.key.lowercased() == "authorization" }?.value ?? ""
            let expected = "Basic " + Data("\(clientID):\(clientSecret)".utf8).base64EncodedString()
            guard authorization == expected || (form["client_id"] == clientID && form["client_secret"] == clientSecret)
            else {
                return (401, json, Data(#"{"error":"invalid_client"}"#.utf8))
            }
            guard form["grant_type"] == "client_credentials" else {
                return (400, json, Data(#"{"error":"unsupported_grant_type"}"#.utf8))
            }
            let scope = form["scope"] ?? ""
            let token = self.token(scope: scope, audience: form["resource"])
            return (
                200, json,
                Data(
                    jsonText(["access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": scope]).utf8)
            )
        default:
            return (404, json, Data(#"{"error":"not_found"}"#.utf8))
        }
    }
}

/// The JWKS fetcher of the resource server, answered by the in-process authorization server.
struct InProcessFetcher: ScopeGateTokens.HTTPFetcher {
    let authorizationServer: TestAuthorizationServer
    func fetch(_ request: ScopeGateTokens.HTTPRequest) async throws -> ScopeGateTokens.HTTPResponse {
        let r = authorizationServer.handle(
            method: request.method, url: request.url, headers: request.headers,
            body: request.body.isEmpty ? nil : Data(request.body))
        return ScopeGateTokens.HTTPResponse(status: r.status, headers: r.headers, body: Array(r.body))
    }
}

// MARK: - A world: the example server + an authorization server on unique https hosts

final class AuditCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var _events: [AuditEvent] = []
    var events: [AuditEvent] { lock.withLock { _events } }
    func append(_ e: AuditEvent) { lock.withLock { _events.append(e) } }
}

let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
let climatePolicyPath = repositoryRoot.appendingPathComponent("policies/climate.yaml").path

/// The CRM API of the example reached in-process, recording every request's `Authorization` header.
final class RecordingCRM: ScopeGateTokens.HTTPFetcher, @unchecked Sendable {
    let api: ClientRecordsAPI
    private let lock = NSLock()
    private var _authorizations: [String] = []
    init(api: ClientRecordsAPI) { self.api = api }
    /// Every `Authorization` header value received (an absent header as "").
    var authorizations: [String] { lock.withLock { _authorizations } }

    func fetch(_ request: ScopeGateTokens.HTTPRequest) async throws -> ScopeGateTokens.HTTPResponse {
        let authorization = request.headers.first { $0.key.lowercased() == "authorization" }?.value
        lock.withLock { _authorizations.append(authorization ?? "") }
        let (status, body) = await api.handle(
            method: request.method, path: request.url.path, authorization: authorization, body: request.body)
        return ScopeGateTokens.HTTPResponse(
            status: status, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }
}

struct World: Sendable {
    let mcpHost: String
    let resource: String
    let authorizationServer: TestAuthorizationServer
    let app: ClimateApp
    let audit: AuditCollector
    let crm: RecordingCRM

    /// `exchange`: whether the issuer has RFC 8693 settings (the example's `MCP_EXCHANGE_*`); `challengeScope`:
    /// the adapter's 403 `scope` strategy.
    init(
        policyPath: String = climatePolicyPath, exchange: Bool = true,
        challengeScope: ChallengeScopeStrategy = .required
    ) throws {
        let n = UUID().uuidString.prefix(8).lowercased()
        mcpHost = "mcp-\(n).test"
        resource = "https://\(mcpHost)/mcp"
        let issuer = "https://auth-\(n).test"
        let authorizationServer = TestAuthorizationServer(issuer: issuer)
        self.authorizationServer = authorizationServer
        let audit = AuditCollector()
        self.audit = audit
        var environment = [
            "SCOPEGATE_POLICY": policyPath, "MCP_RESOURCE": resource, "MCP_ISSUER": issuer,
            "MCP_JWKS_URI": issuer + "/jwks", "CRM_API_URL": "https://crm-\(n).test",
        ]
        if exchange {
            environment["MCP_EXCHANGE_ENDPOINT"] = issuer + "/token"
            environment["MCP_EXCHANGE_CLIENT_ID"] = authorizationServer.serverClientID
        }
        let settings = ClimateSettings(environment: environment)
        let fetcher = InProcessFetcher(authorizationServer: authorizationServer)
        let crm = RecordingCRM(
            api: ClientRecordsAPI(
                tokens: TokensConfig(issuers: [
                    TokensConfig.Issuer(
                        issuer: issuer, jwksURI: issuer + "/jwks", algorithms: ["RS256"],
                        audiences: [], location: SourceLocation(file: "test", line: 1, column: 1))
                ]),
                fetcher: fetcher, clock: SystemTokenClock()))
        self.crm = crm
        app = try ClimateApp.make(settings: settings, crmFetcher: crm) { configuration in
            configuration.fetcher = fetcher
            configuration.auditSink = { audit.append($0) }
            configuration.environment = ["MCP_EXCHANGE_SECRET": TestAuthorizationServer.serverClientSecret]
            configuration.challengeScope = challengeScope
        }
        let gateway = app.gateway
        HostRegistry.shared.register(mcpHost) { method, url, headers, body in
            let response = await gateway.handle(
                MCP.HTTPRequest(method: method, headers: headers, body: body, path: url.path))
            return (response.statusCode, response.headers, response.bodyData ?? Data())
        }
        HostRegistry.shared.register("auth-\(n).test") { method, url, headers, body in
            authorizationServer.handle(method: method, url: url, headers: headers, body: body)
        }
    }

    /// A request straight to the gateway.
    func post(_ body: String, token: String?, headers extra: [String: String] = [:]) async -> MCP.HTTPResponse {
        var headers = ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        for (k, v) in extra { headers[k] = v }
        return await app.gateway.handle(
            MCP.HTTPRequest(method: "POST", headers: headers, body: Data(body.utf8), path: "/mcp"))
    }

    func token(_ scope: String) -> String { authorizationServer.token(scope: scope, audience: resource) }

    var metadataURL: String { "https://\(mcpHost)/.well-known/oauth-protected-resource/mcp" }

    func sessionConfiguration() -> URLSessionConfiguration {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.protocolClasses = [InProcessURLProtocol.self]
        return configuration
    }

    /// The MCP SDK's own HTTP transport to the resource, authorized by the SDK's `OAuthAuthorizer` with this
    /// world's client credentials (it discovers the authorization server and steps up by itself).
    func sdkTransport() throws -> HTTPClientTransport {
        let authorizer = OAuthAuthorizer(
            configuration: OAuthConfiguration(
                grantType: .clientCredentials,
                authentication: .clientSecretBasic(
                    clientID: authorizationServer.clientID, clientSecret: authorizationServer.clientSecret)))
        guard let endpoint = URL(string: resource) else { throw URLError(.badURL) }
        return HTTPClientTransport(
            endpoint: endpoint, configuration: sessionConfiguration(), streaming: false, authorizer: authorizer)
    }
}

func toolCall(_ name: String, _ arguments: [String: Any] = [:], id: Int = 1) -> String {
    jsonText(["jsonrpc": "2.0", "id": id, "method": "tools/call", "params": ["name": name, "arguments": arguments]])
}

extension MCP.HTTPResponse {
    var wwwAuthenticate: String? { headers.first { $0.key.lowercased() == "www-authenticate" }?.value }
    var bodyText: String { String(decoding: bodyData ?? Data(), as: UTF8.self) }
}
