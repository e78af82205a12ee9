import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTesting
import ScopeGateTokens
import Testing

/// The policy every suite decides against (``GatewayTestPolicy/source``, which the fuzz targets use too).
let policySource = GatewayTestPolicy.source

enum Fixture {
    // A fixed, valid policy: compiling it cannot fail unless the compiler is broken (then every test fails).
    static let policy: CompiledPolicy = try! PolicyCompiler(options: LoadOptions(environment: [:]))
        .compile(source: policySource).compiled()

    static let expiry = Date(timeIntervalSince1970: 2_000_000_000)

    static func credential(_ scopes: [String]) -> Credential {
        .granted(policy.grant(scopes), expiresAt: expiry, stripPrefixes: [])
    }

    static func headers(_ pairs: [(String, String)]) -> MCPRequestHeaders { MCPRequestHeaders(pairs) }

    /// A 2026-07-28 `tools/call` request: its headers (plus `extra`) and body.
    static func toolCall(
        _ name: String, arguments: String = "{}", id: Int = 1, extra: [(String, String)] = [],
        mcpName: String? = nil, meta: Bool = true
    ) -> MCPHTTPRequest {
        let metaText = meta ? #","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}"# : ""
        let body =
            #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(name)","arguments":\#(arguments)\#(metaText)}}"#
        let fields: [(String, String)] =
            [("MCP-Protocol-Version", "2026-07-28"), ("Mcp-Method", "tools/call"), ("Mcp-Name", mcpName ?? name)]
            + extra
        return MCPHTTPRequest(method: "POST", headers: MCPRequestHeaders(fields), body: Array(body.utf8))
    }

    /// A POST with the given revision header (nil: none) and body text.
    static func post(_ body: String, revision: String? = "2025-11-25", extra: [(String, String)] = []) -> MCPHTTPRequest
    {
        var fields = extra
        if let revision { fields.insert(("MCP-Protocol-Version", revision), at: 0) }
        return MCPHTTPRequest(method: "POST", headers: MCPRequestHeaders(fields), body: Array(body.utf8))
    }

    static let authorizer = RequestAuthorizer(policy: policy)
}

/// The body of a verdict parsed as JSON.
func json(_ bytes: [UInt8]?) -> JSONValue? {
    guard let bytes else { return nil }
    return try? JSONParser().parse(String(decoding: bytes, as: UTF8.self))
}

/// `error.code` of a single JSON-RPC error response.
func errorCode(_ bytes: [UInt8]?) -> Decimal? {
    guard case .object(let o)? = json(bytes), case .object(let e)? = o["error"], case .number(let c)? = e["code"]
    else { return nil }
    return c
}

/// `error.data` of a single JSON-RPC error response.
func errorData(_ bytes: [UInt8]?) -> [String: JSONValue]? {
    guard case .object(let o)? = json(bytes), case .object(let e)? = o["error"], case .object(let d)? = e["data"]
    else { return nil }
    return d
}
