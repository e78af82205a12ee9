import Foundation
import ScopeGate

/// One HTTP exchange the doctor made: where, what came back (status, a few headers, the body as JSON when it is
/// JSON) or why nothing did.
///
/// ```swift
/// let prm = FetchedDocument(url: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
///                           status: 200, json: try JSONParser().parse(#"{"resource":"https://mcp.example.com/mcp"}"#))
/// ```
public struct FetchedDocument: Sendable, Hashable {
    public var url: String
    /// The HTTP status; nil when no HTTP answer came (see ``error``).
    public var status: Int?
    /// The transport failure, when there was no answer.
    public var error: String?
    /// Response header fields, names lowercased.
    public var headers: [String: String]
    /// The body parsed as JSON, when it is JSON.
    public var json: JSONValue?

    public init(
        url: String, status: Int? = nil, error: String? = nil, headers: [String: String] = [:], json: JSONValue? = nil
    ) {
        self.url = url
        self.status = status
        self.error = error
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        self.json = json
    }

    /// A 2xx answer whose body is a JSON object.
    public var object: [String: JSONValue]? {
        guard let status, (200..<300).contains(status), case .object(let o)? = json else { return nil }
        return o
    }

    /// `HTTP 404` or the transport error, for evidence lines.
    public var outcome: String {
        if let status {
            return "HTTP \(status)" + (object == nil && (200..<300).contains(status) ? " (not a JSON object)" : "")
        }
        return error ?? "no answer"
    }
}

/// Everything the doctor fetched about one deployment; the checks are pure functions of it
/// (``DeploymentDoctor/evaluate(_:)``), so they are tested with crafted documents and no network.
///
/// ```swift
/// var evidence = DeploymentEvidence(resource: "https://mcp.example.com/mcp")
/// evidence.prmPathForm = FetchedDocument(url: "…", status: 200, json: prm)
/// let findings = DeploymentDoctor.evaluate(evidence)
/// ```
public struct DeploymentEvidence: Sendable, Hashable {
    /// The resource's URL as clients use it (`--resource`).
    public var resource: String
    /// The issuer to audit (`--issuer`, else the metadata's first authorization server).
    public var issuer: String?
    /// Whether `--issuer` named it (then it must also be listed in the metadata).
    public var issuerGiven = false
    /// `/.well-known/oauth-protected-resource/<path>` (RFC 9728 §3.1).
    public var prmPathForm: FetchedDocument?
    /// `/.well-known/oauth-protected-resource` (the root form MCP clients fall back to); nil when the resource has
    /// no path, so the two forms are one URL.
    public var prmRootForm: FetchedDocument?
    /// Authorization server metadata: the first of RFC 8414 and OpenID discovery that answered with JSON, or the
    /// last attempt.
    public var authorizationServer: FetchedDocument?
    /// The JWKS at the metadata's `jwks_uri`.
    public var jwks: FetchedDocument?
    /// The answer to an MCP request without a token.
    public var challenge: FetchedDocument?
    /// A sample access token (`--token`), as text.
    public var token: String?
    /// The answer to an MCP request carrying a token for another audience (`--other-audience-token`).
    public var otherAudience: FetchedDocument?
    /// Allowed JWS algorithms: the policy's issuers' (`--policy`) or ``DeploymentDoctor/defaultAlgorithms``.
    public var allowedAlgorithms: [String] = DeploymentDoctor.defaultAlgorithms
    /// Where ``allowedAlgorithms`` came from, for evidence lines.
    public var algorithmsSource = "the default allow-list"
    /// The time tokens are judged at.
    public var now = Date()

    public init(resource: String) { self.resource = resource }
}

extension JSONValue {
    /// A member's string.
    func string(_ key: String) -> String? {
        guard case .object(let o) = self, case .string(let s)? = o[key] else { return nil }
        return s
    }

    /// A member's array of strings; nil when absent or not an array.
    func strings(_ key: String) -> [String]? {
        guard case .object(let o) = self, case .array(let items)? = o[key] else { return nil }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// A member's boolean.
    func bool(_ key: String) -> Bool? {
        guard case .object(let o) = self, case .bool(let b)? = o[key] else { return nil }
        return b
    }
}
