import Foundation

@testable import ScopeGate
@testable import ScopeGateTokens

// Target `request`: one MCP HTTP request against the fixed policy and cached tokens of Fuzz/gateway, through
// RequestAuthorizer (compiled from Sources/ScopeGateRequestAuthorization, unchanged) with two settings: the
// defaults, and a 2026-07-28-only deployment that knows the tools' `x-mcp-header` annotations and answers
// challenges with granted + missing scopes. Input, HTTP-like:
//
//   POST                                  first line: the method
//   Authorization: Bearer tok-read        header lines, `name: value`, up to a blank line
//   Mcp-Name: =?base64?cmVhZF9maWxl?=
//
//   {"jsonrpc":"2.0","id":1,…}            the rest: the body (single, batch, notification, anything)
//
// Invariants (a violation aborts):
//  - an allowed POST has a valid token and a body that the core JSONParser reads as JSON-RPC 2.0 messages, every
//    call of which CompiledPolicy.decide allows (read here from the parsed JSON, not from RequestAuthorizer);
//  - an allowed request has no repeated header, and its Mcp-Method / Mcp-Name / Mcp-Param-* /
//    MCP-Protocol-Version say what the body says (decoded and compared here);
//  - the status fits the outcome, the body is a JSON-RPC error (or a batch of them), and a 401, or a 403 with a
//    step-up, carries a WWW-Authenticate that parses back as a Bearer challenge with the right `error`;
//  - the same for the header-only decision (`authorizeHeaders`): allowed only with a 2026-07-28 header and a
//    call, as named by the headers, that the policy allows.

struct RawRequest {
    var method = "POST"
    var fields: [(String, String)] = []
    var body: [UInt8]?

    init(_ bytes: [UInt8]) {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        var bodyStart: Int?
        while i < bytes.count {
            if bytes[i] == 0x0A {
                let line = bytes[start..<i]
                if line.isEmpty || line == [0x0D] {
                    bodyStart = i + 1
                    break
                }
                lines.append(line.last == 0x0D ? line.dropLast() : line)
                start = i + 1
            }
            i += 1
        }
        if bodyStart == nil, start < bytes.count { lines.append(bytes[start...]) }
        if let first = lines.first { method = String(decoding: first, as: UTF8.self) }
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            var value = line[(colon + 1)...]
            while value.first == 0x20 || value.first == 0x09 { value = value.dropFirst() }
            fields.append((String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        if let bodyStart { body = Array(bytes[bodyStart...]) }
    }

    /// Every value of a header, matched case-insensitively.
    func values(_ name: String) -> [String] {
        fields.filter { $0.0.lowercased() == name }.map(\.1)
    }
}

/// The credential of an `Authorization` header: the cache hit of a fixed token, else refused.
func credential(_ fields: [(String, String)]) -> (Credential, Grant?) {
    let header = fields.last { $0.0.lowercased() == "authorization" }?.1
    guard let token = BearerChallenge.token(fromAuthorization: header) else { return (.missing, nil) }
    guard Gateway.cache.value(for: token) != nil, let i = Gateway.tokens.firstIndex(where: { $0.token == token })
    else {
        let code: TokenError.Code = token == "tok-expired" ? .expired : .malformed
        return (.invalid(TokenError(code, "refused by the fuzz fixture")), nil)
    }
    let grant = Gateway.grants[i]
    return (.granted(grant, expiresAt: Gateway.expiry, stripPrefixes: Gateway.tokens[i].strip), grant)
}

/// The `Mcp-Name` / `Mcp-Param-*` value encoding, decoded independently: the Base64 sentinel, else visible ASCII.
func decodeHeaderValue(_ raw: String) -> String? {
    let p = "=?base64?"
    let s = "?="
    if raw.utf8.count >= 11, raw.hasPrefix(p), raw.hasSuffix(s) {
        let inner = String(raw.dropFirst(p.count).dropLast(s.count))
        guard let data = Data(base64Encoded: inner) else { return nil }
        return String(data: data, encoding: .utf8)
    }
    return raw.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 } ? raw : nil
}

/// Parses `Bearer k="v", k="v"` back into its parameters; nil when it is not that shape.
func parseChallenge(_ text: String) -> [String: String]? {
    guard text.hasPrefix("Bearer") else { return nil }
    var rest = Substring(text.dropFirst(6))
    var out: [String: String] = [:]
    if rest.isEmpty { return out }
    guard rest.first == " " else { return nil }
    rest = rest.dropFirst()
    while !rest.isEmpty {
        guard let eq = rest.firstIndex(of: "=") else { return nil }
        let key = String(rest[..<eq])
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0 == "_" }), out[key] == nil else { return nil }
        rest = rest[rest.index(after: eq)...]
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        let value = rest[..<close]
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\\" }) else {
            return nil
        }
        out[key] = String(value)
        rest = rest[rest.index(after: close)...]
        if rest.isEmpty { break }
        guard rest.hasPrefix(", ") else { return nil }
        rest = rest.dropFirst(2)
    }
    return out
}

/// A JSON-RPC error response object (or a non-empty array of them).
func isErrorResponse(_ bytes: [UInt8]) -> Bool {
    func one(_ v: JSONValue) -> Bool {
        guard case .object(let o) = v, o["jsonrpc"] == .string("2.0"), o["id"] != nil,
            case .object(let e)? = o["error"], case .number? = e["code"], case .string? = e["message"]
        else { return false }
        return true
    }
    switch Gateway.parseJSON(bytes) {
    case .array(let items)?: return !items.isEmpty && items.allSatisfy(one)
    case let v?: return one(v)
    case nil: return false
    }
}

/// The call a JSON-RPC message describes, read from the parsed JSON; nil for a response (no `method`).
/// `.failure` when the message is malformed (nothing may allow it).
func describedCall(_ message: JSONValue) -> Result<Call?, Fault> {
    guard case .object(let o) = message, o["jsonrpc"] == .string("2.0") else { return .failure(Fault("not JSON-RPC")) }
    guard case .string(let method)? = o["method"] else {
        return o["method"] == nil ? .success(nil) : .failure(Fault("method not a string"))
    }
    var params: [String: JSONValue] = [:]
    if case .object(let p)? = o["params"] { params = p }
    var arguments: [String: JSONValue] = [:]
    if case .object(let a)? = params["arguments"] { arguments = a }
    switch method {
    case "tools/call", "prompts/get":
        guard case .string(let name)? = params["name"] else { return .failure(Fault("no name")) }
        return .success(Call(method: method, name: name, arguments: arguments))
    case "resources/read":
        guard case .string(let uri)? = params["uri"] else { return .failure(Fault("no uri")) }
        return .success(Call(method: method, name: uri))
    default: return .success(Call(method: method))
    }
}

struct Fault: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

let reviewed = ["mcp-protocol-version", "mcp-method", "mcp-name", "mcp-session-id", "authorization"]

/// Checks an allowed POST with a body against the independent readings.
func checkAllowedBody(_ raw: RawRequest, grant: Grant, verdict: AuthorizationVerdict, knowsAnnotations: Bool) {
    let body = raw.body ?? []
    guard let value = Gateway.parseJSON(body) else {
        Fuzz.check(false, "allowed a body that is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
        return
    }
    let messages: [JSONValue]
    if case .array(let items) = value { messages = items } else { messages = [value] }
    Fuzz.check(!messages.isEmpty, "allowed an empty batch")
    Fuzz.check(verdict.decisions.count == messages.count, "decisions do not match the messages")
    let version = raw.values("mcp-protocol-version").first
    let stateless = version.map { $0 >= "2026-07-28" } ?? false
    Fuzz.check(
        !(stateless && messages.count > 1 && { if case .array = value { true } else { false } }()),
        "allowed a 2026-07-28 batch")
    if let version {
        Fuzz.check(ProtocolRevision.known.map(\.rawValue).contains(version), "allowed revision \(version)")
    }
    let method = raw.values("mcp-method").first
    let name = raw.values("mcp-name").first
    let decodedName = name.map(decodeHeaderValue)
    for message in messages {
        let call: Call?
        switch describedCall(message) {
        case .failure(let fault):
            Fuzz.check(false, "allowed a malformed message (\(fault.text)): \(message.jsonText.prefix(300))")
            return
        case .success(let c): call = c
        }
        guard case .object(let o) = message else { return }
        if case .object(let p)? = o["params"], case .object(let meta)? = p["_meta"],
            case .string(let v)? = meta["io.modelcontextprotocol/protocolVersion"], let version
        {
            Fuzz.check(v == version, "allowed: header version \(version) but _meta \(v)")
        }
        guard let call else {
            Fuzz.check(method == nil && !stateless, "allowed a response with Mcp-Method or on 2026-07-28")
            continue
        }
        Fuzz.check(Gateway.permits(call, grant: grant), "allowed a call the policy denies: \(call)")
        if let method { Fuzz.check(method == call.method, "allowed: Mcp-Method \(method) but body \(call.method)") }
        let names = ["tools/call", "prompts/get", "resources/read"].contains(call.method)
        if stateless, o["id"] != nil {
            Fuzz.check(method != nil, "allowed a 2026-07-28 request without Mcp-Method")
            if names { Fuzz.check(name != nil, "allowed a 2026-07-28 \(call.method) without Mcp-Name") }
        }
        if let decodedName {
            Fuzz.check(names, "allowed Mcp-Name on \(call.method)")
            Fuzz.check(
                decodedName == call.name, "allowed: Mcp-Name \(String(describing: decodedName)) but body \(call.name)")
        }
        for (field, rawValue) in raw.fields where field.lowercased().hasPrefix("mcp-param-") && field.utf8.count > 10 {
            Fuzz.check(call.method == "tools/call", "allowed Mcp-Param on \(call.method)")
            guard !knowsAnnotations else { continue }
            let key = String(field.lowercased().dropFirst(10))
            let decoded = decodeHeaderValue(rawValue)
            let candidates = call.arguments.filter { $0.key.lowercased() == key }.map(\.value)
            let matches = candidates.contains { v in
                switch v {
                case .string(let s): return decoded == s
                case .bool(let b): return decoded == (b ? "true" : "false")
                case .number: return decoded != nil
                default: return false
                }
            }
            Fuzz.check(matches, "allowed: \(field) \(rawValue) does not match the arguments \(call.arguments)")
        }
    }
}

/// Invariants every verdict meets, allowed or not.
func checkShape(_ verdict: AuthorizationVerdict, credential: Credential) {
    switch verdict.outcome {
    case .allow:
        Fuzz.check(verdict.status == 200 && verdict.body == nil, "allow with status \(verdict.status) or a body")
        if case .granted = credential {} else { Fuzz.check(false, "allowed without a valid token") }
    case .reject:
        Fuzz.check([400, 405, 413].contains(verdict.status), "reject with status \(verdict.status)")
        Fuzz.check(verdict.wwwAuthenticate == nil, "a rejection with a challenge")
        Fuzz.check(verdict.rejection?.code.httpStatus == verdict.status, "rejection and status differ")
    case .unauthorized:
        Fuzz.check(verdict.status == 401, "unauthorized with status \(verdict.status)")
        if case .granted = credential { Fuzz.check(false, "401 for a valid token") }
        guard let text = verdict.wwwAuthenticate, let challenge = parseChallenge(text) else {
            Fuzz.check(false, "401 without a parseable challenge: \(verdict.wwwAuthenticate ?? "nil")")
            return
        }
        Fuzz.check(challenge["resource_metadata"] != nil, "401 challenge without resource_metadata: \(text)")
        if case .invalid = credential {
            Fuzz.check(challenge["error"] == "invalid_token", "401 for a refused token without invalid_token: \(text)")
        } else {
            Fuzz.check(challenge["error"] == nil, "401 for a missing token names an error: \(text)")
        }
    case .forbidden:
        Fuzz.check(verdict.status == 403, "forbidden with status \(verdict.status)")
        let stepUp = verdict.decisions.contains { !$0.allowed && !$0.shadowed && $0.reason == "missing_scope" }
        Fuzz.check((verdict.wwwAuthenticate != nil) == stepUp, "403 challenge present iff a step-up")
        if let text = verdict.wwwAuthenticate {
            let challenge = parseChallenge(text)
            Fuzz.check(
                challenge?["error"] == "insufficient_scope" && challenge?["scope"] != nil,
                "403 challenge does not parse as insufficient_scope: \(text)")
        }
        Fuzz.check(verdict.decisions.contains { !$0.allowed && !$0.shadowed }, "403 with nothing denied")
    }
    if let body = verdict.body {
        Fuzz.check(
            isErrorResponse(body),
            "answer body is not a JSON-RPC error: \(String(decoding: body.prefix(300), as: UTF8.self))")
    } else {
        Fuzz.check(verdict.outcome == .allow || verdict.outcome == .forbidden, "a refusal without a body")
    }
}

let annotated: ParameterHeaders = {
    var known = ParameterHeaders()
    known.tools["file_manager"] = ["action": ["action"], "path": ["path"]]
    known.tools["spend"] = ["amount": ["amount"], "urgent": ["urgent"]]
    return known
}()

let authorizers = [
    RequestAuthorizer(policy: Gateway.policy),
    RequestAuthorizer(
        policy: Gateway.policy,
        settings: AuthorizationSettings(
            protocols: ProtocolSupport(minimum: .july2026), limits: RequestLimits(maxBodyBytes: 4096, maxBatch: 4),
            challengeScope: .grantedPlusMissing, parameterHeaders: annotated)),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func requestFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = RawRequest(Array(UnsafeBufferPointer(start: data, count: size)))
    let headers = MCPRequestHeaders(raw.fields)
    let (credential, grant) = credential(raw.fields)
    let repeated =
        reviewed.contains { raw.values($0).count > 1 }
        || Set(raw.fields.map { $0.0.lowercased() }.filter { $0.hasPrefix("mcp-param-") }).count
            != raw.fields.filter({ $0.0.lowercased().hasPrefix("mcp-param-") }).count
    for (n, authorizer) in authorizers.enumerated() {
        let verdict = authorizer.authorize(
            MCPHTTPRequest(method: raw.method, headers: headers, body: raw.body), credential: credential)
        checkShape(verdict, credential: credential)
        if verdict.allowed, let grant {
            Fuzz.check(!repeated, "allowed a request with a repeated header")
            if raw.method.uppercased() == "POST" {
                checkAllowedBody(raw, grant: grant, verdict: verdict, knowsAnnotations: n == 1)
            } else {
                Fuzz.check(
                    raw.values("mcp-protocol-version").first.map { $0 < "2026-07-28" } ?? true,
                    "allowed a 2026-07-28 \(raw.method)")
            }
        }
        let byHeaders = authorizer.authorizeHeaders(headers, credential: credential)
        checkShape(byHeaders, credential: credential)
        if byHeaders.allowed, let grant {
            Fuzz.check(!repeated, "allowed headers with a repeated header")
            Fuzz.check(
                raw.values("mcp-protocol-version").first.map { $0 >= "2026-07-28" } == true,
                "header-only decision without 2026-07-28")
            let method = raw.values("mcp-method").first
            for decision in byHeaders.decisions {
                guard let call = decision.call else {
                    Fuzz.check(false, "header-only allow without a call")
                    continue
                }
                Fuzz.check(
                    call.method == method, "header-only call \(call.method) is not Mcp-Method \(method ?? "nil")")
                if ["tools/call", "prompts/get", "resources/read"].contains(call.method) {
                    Fuzz.check(
                        raw.values("mcp-name").first.flatMap(decodeHeaderValue) == call.name,
                        "header-only call name \(call.name) is not Mcp-Name")
                }
                Fuzz.check(Gateway.permits(call, grant: grant), "header-only allowed a call the policy denies: \(call)")
            }
        }
    }
    return 0
}
