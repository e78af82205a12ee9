import Foundation
import ScopeGate

/// A request refused before any policy decision: malformed or oversized input, an unsupported protocol
/// revision, or headers that disagree with the body. Carries the HTTP status and the JSON-RPC error to answer.
///
/// ```swift
/// do { _ = try JSONRPCBody.parse(bytes, limits: .init()) } catch {
///     let status = error.code.httpStatus        // 400
///     let body = error.responseBody()           // {"jsonrpc":"2.0","id":null,"error":{"code":-32700,…}}
/// }
/// ```
public struct RequestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable code: id, JSON-RPC error code and HTTP status.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        /// Stable string id, e.g. `request.header_mismatch`.
        public let id: String
        /// The JSON-RPC `error.code`.
        public let jsonRPC: Int
        /// The HTTP status of the answer.
        public let httpStatus: Int

        public init(_ id: String, jsonRPC: Int, httpStatus: Int) {
            self.id = id
            self.jsonRPC = jsonRPC
            self.httpStatus = httpStatus
        }

        public var description: String { id }

        /// The body is not JSON (JSON-RPC -32700).
        public static let parseError = Code("request.parse_error", jsonRPC: -32700, httpStatus: 400)
        /// The JSON is not an acceptable JSON-RPC message or batch (-32600).
        public static let invalidRequest = Code("request.invalid", jsonRPC: -32600, httpStatus: 400)
        /// The body, a batch or the JSON nesting is over a limit (-32600, HTTP 413).
        public static let tooLarge = Code("request.too_large", jsonRPC: -32600, httpStatus: 413)
        /// The request head is over its size or field-count limit (-32600, HTTP 431 Request Header Fields Too
        /// Large); refused before the body is read or the token looked at.
        public static let headerTooLarge = Code("request.header_too_large", jsonRPC: -32600, httpStatus: 431)
        /// Headers that disagree with the body, or a required header missing or malformed (the specification's
        /// `HeaderMismatch`, -32020).
        public static let headerMismatch = Code("request.header_mismatch", jsonRPC: -32020, httpStatus: 400)
        /// `MCP-Protocol-Version` names a revision not served (the specification's
        /// `UnsupportedProtocolVersionError`, -32022).
        public static let unsupportedProtocolVersion = Code(
            "request.unsupported_protocol_version", jsonRPC: -32022, httpStatus: 400)
    }

    public let code: Code
    /// Lowercase, no final period, names in backticks.
    public let message: String
    /// The JSON-RPC `error.data`, if any.
    public let data: JSONValue?
    /// The id of the request refused, when the body was read far enough to know it.
    public var id: JSONValue?

    public init(_ code: Code, _ message: String, data: JSONValue? = nil, id: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
        self.id = id
    }

    public var description: String { "\(code.id): \(message)" }

    /// The JSON-RPC error response to send (UTF-8 JSON).
    public func responseBody() -> [UInt8] { error.response(id: id) }

    /// The JSON-RPC error object of this rejection.
    public var error: JSONRPCError { JSONRPCError(code: code.jsonRPC, message: message, data: data) }
}

/// A JSON-RPC `error` object.
///
/// ```swift
/// JSONRPCError(code: -32003, message: "forbidden").response(id: .number(1))
/// ```
public struct JSONRPCError: Sendable, Hashable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The error object as JSON text.
    public var jsonText: String {
        var object: [String: JSONValue] = ["code": .number(Decimal(code)), "message": .string(message)]
        if let data { object["data"] = data }
        return JSONValue.object(object).jsonText
    }

    /// A complete JSON-RPC error response for `id` (null when unknown).
    public func response(id: JSONValue?) -> [UInt8] {
        Array(("{\"jsonrpc\":\"2.0\",\"id\":" + (id ?? .null).jsonText + ",\"error\":" + jsonText + "}").utf8)
    }
}
