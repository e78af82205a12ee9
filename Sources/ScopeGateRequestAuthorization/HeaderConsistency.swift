import Foundation
import ScopeGate

/// The check that the request metadata headers say what the body says (2026-07-28 Streamable HTTP, "Server
/// Validation"). Anything that reads the body must refuse a disagreement with 400 and `HeaderMismatch`
/// (-32020): otherwise a component routing or deciding on the headers and the server executing the body would
/// see two different requests.
///
/// ```swift
/// try HeaderConsistency.check(headers, message: body.messages[0], revision: .july2026)
/// ```
public enum HeaderConsistency {
    /// Checks one message of a body against the headers.
    ///
    /// On a stateless revision (2026-07-28) `Mcp-Method` is required for requests and `Mcp-Name` for
    /// `tools/call`, `prompts/get` and `resources/read`; on older revisions the headers are optional hints,
    /// refused only when present and different. Every `Mcp-Param-*` header present must equal the argument it
    /// mirrors, rendered as the specification renders it (strings as-is, integers in decimal and compared as
    /// numbers, booleans `true`/`false`); when the tool's annotations are known, an annotated argument present
    /// in the body needs its header.
    public static func check(
        _ headers: MCPRequestHeaders, message: JSONRPCMessage, revision: ProtocolRevision?,
        parameterHeaders: ParameterHeaders = .init()
    ) throws(RequestRejection) {
        let stateless = revision?.isStateless ?? false
        func mismatch(_ text: String) -> RequestRejection {
            RequestRejection(.headerMismatch, "header mismatch: " + text, id: message.id)
        }
        if stateless, message.kind == .response {
            throw RequestRejection(
                .invalidRequest, "a client sends no JSON-RPC responses on \(ProtocolRevision.july2026)",
                id: message.id)
        }
        if let version = message.metaProtocolVersion, let header = headers.protocolVersion, version != header {
            throw mismatch(
                "`MCP-Protocol-Version` is `\(header.prefix(64))`, the body's `_meta` says `\(version.prefix(64))`")
        }
        switch headers.method {
        case nil:
            if stateless, message.kind == .request { throw mismatch("the required `Mcp-Method` header is missing") }
        case let method?:
            guard message.kind != .response else { throw mismatch("`Mcp-Method` given for a JSON-RPC response") }
            guard method == message.method else {
                throw mismatch(
                    "`Mcp-Method` is `\(method.prefix(64))`, the body's method is `\(message.method.prefix(64))`")
            }
        }
        let nameKey: String? =
            switch message.method {
            case "tools/call", "prompts/get": "name"
            case "resources/read": "uri"
            default: nil
            }
        var bodyName: String?
        if let nameKey, case .string(let s)? = message.param(named: nameKey) { bodyName = s }
        let headerName: String?
        do throws(RequestRejection) { headerName = try headers.name() } catch {
            var error = error
            error.id = message.id
            throw error
        }
        switch (headerName, nameKey) {
        case (nil, _?):
            if stateless, message.kind == .request { throw mismatch("the required `Mcp-Name` header is missing") }
        case (let name?, nil):
            throw mismatch("`Mcp-Name` is `\(name.prefix(64))` but `\(message.method.prefix(64))` names nothing")
        case (let name?, let key?):
            guard name == bodyName else {
                throw mismatch(
                    "`Mcp-Name` is `\(name.prefix(64))`, the body's `params.\(key)` is `\((bodyName ?? "").prefix(64))`"
                )
            }
        case (nil, nil): break
        }
        try checkParameters(headers, message: message, parameterHeaders: parameterHeaders)
    }

    static func checkParameters(
        _ headers: MCPRequestHeaders, message: JSONRPCMessage, parameterHeaders: ParameterHeaders
    ) throws(RequestRejection) {
        let isToolCall = message.method == "tools/call"
        var arguments: [String: JSONValue] = [:]
        if case .object(let a)? = message.param(named: "arguments") { arguments = a }
        var tool = ""
        if case .string(let name)? = message.param(named: "name") { tool = name }
        for header in headers.rawParameters.keys.sorted() {
            guard isToolCall else {
                throw RequestRejection(
                    .headerMismatch, "header mismatch: `Mcp-Param-\(header)` on a request that is not `tools/call`",
                    id: message.id)
            }
            let text: String?
            do throws(RequestRejection) { text = try headers.parameter(header) } catch {
                var error = error
                error.id = message.id
                throw error
            }
            let path = parameterHeaders.path(tool: tool, header: header, arguments: arguments)
            let value = lookup(path, in: arguments)
            guard let text, let value, rendered(value, equals: text) else {
                throw RequestRejection(
                    .headerMismatch,
                    "header mismatch: `Mcp-Param-\(header)` does not match the argument `\(path.joined(separator: "."))`",
                    id: message.id)
            }
        }
        guard isToolCall, let annotated = parameterHeaders.tools[tool] else { return }
        for (header, path) in annotated.sorted(by: { $0.key < $1.key }) where headers.rawParameters[header] == nil {
            if let value = lookup(path, in: arguments), value != .null {
                throw RequestRejection(
                    .headerMismatch,
                    "header mismatch: the argument `\(path.joined(separator: "."))` is sent without its `Mcp-Param-\(header)` header",
                    id: message.id)
            }
        }
    }

    /// The value at a property path of the arguments.
    static func lookup(_ path: [String], in arguments: [String: JSONValue]) -> JSONValue? {
        guard let first = path.first else { return nil }
        var value = arguments[first]
        for key in path.dropFirst() {
            guard case .object(let object)? = value else { return nil }
            value = object[key]
        }
        return value
    }

    /// Whether a header text is the specification's rendering of `value`: strings as-is, booleans `true` or
    /// `false`, numbers compared numerically (`42.0` equals `42`). Other types are never mirrored.
    static func rendered(_ value: JSONValue, equals text: String) -> Bool {
        switch value {
        case .string(let s): return s == text
        case .bool(let b): return text == (b ? "true" : "false")
        case .number(let n):
            guard let parsed = HeaderArgumentTypes.number(text) else { return false }
            return parsed == n
        default: return false
        }
    }
}
