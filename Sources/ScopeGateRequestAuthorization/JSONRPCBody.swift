import ScopeGate

/// One JSON-RPC message of a request body.
///
/// ```swift
/// let body = try JSONRPCBody.parse(Array(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8))
/// body.messages[0].kind  // .request
/// ```
public struct JSONRPCMessage: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Has `method` and `id`: answered by the server.
        case request
        /// Has `method`, no `id`.
        case notification
        /// Has `result` or `error` and `id`: a client's answer to a server's request (2025-xx only).
        case response
    }

    public var kind: Kind
    /// The request id (string or number); nil for notifications.
    public var id: JSONValue?
    /// The method; empty for responses.
    public var method: String
    /// `params` (empty when absent). A message read from a body keeps the object as text and makes it into values
    /// each time this is read; ``param(named:)`` reads the members authorization reads without that.
    public var params: [String: JSONValue] {
        get { storage.values }
        set { storage = JSONRPCParams(newValue) }
    }
    var storage: JSONRPCParams

    public init(kind: Kind, id: JSONValue?, method: String, params: [String: JSONValue]) {
        self.init(kind: kind, id: id, method: method, storage: JSONRPCParams(params))
    }

    init(kind: Kind, id: JSONValue?, method: String, storage: JSONRPCParams) {
        self.kind = kind
        self.id = id
        self.method = method
        self.storage = storage
    }

    /// The member `key` of ``params``: `name`, `uri` and `arguments` as read with the message, any other made
    /// from the text.
    public func param(named key: String) -> JSONValue? { storage.value(named: key) }

    /// `params._meta["io.modelcontextprotocol/protocolVersion"]` (2026-07-28), when it is a string.
    public var metaProtocolVersion: String? { storage.metaProtocolVersion }

    /// A multi round-trip retry (2026-07-28 MRTR): the original request again, with `inputResponses`. It is
    /// authorized like any other request.
    public var isInputRetry: Bool { storage.hasInputResponses }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.id == rhs.id && lhs.method == rhs.method && lhs.params == rhs.params
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(id)
        hasher.combine(method)
        hasher.combine(params)
    }

    /// The call this message asks for; nil for a response. Throws `invalidRequest` when `tools/call` or
    /// `prompts/get` lack a string `name`, `resources/read` a string `uri`, or `arguments` is not an object.
    public func call() throws(RequestRejection) -> Call? {
        guard kind != .response else { return nil }
        func string(_ key: String) throws(RequestRejection) -> String {
            guard case .string(let s)? = storage.value(named: key) else {
                throw RequestRejection(.invalidRequest, "`\(method)` needs a string `params.\(key)`", id: id)
            }
            return s
        }
        func arguments() throws(RequestRejection) -> [String: JSONValue] {
            switch storage.arguments {
            case nil, .null?: return [:]
            case .object(let a)?: return a
            default: throw RequestRejection(.invalidRequest, "`params.arguments` is not an object", id: id)
            }
        }
        switch method {
        case "tools/call", "prompts/get":
            return Call(method: method, name: try string("name"), arguments: try arguments())
        case "resources/read":
            return Call(method: method, name: try string("uri"))
        default:
            return Call(method: method)
        }
    }
}

/// A request body: one JSON-RPC message or a batch, read with the core's strict JSON parser (duplicate keys,
/// trailing bytes, deep nesting and bad UTF-8 are refused, so this reading and the server's cannot disagree).
///
/// ```swift
/// let body = try JSONRPCBody.parse(Array(#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]"#.utf8))
/// body.isBatch                     // true
/// try body.messages[0].call()      // Call(method: "tools/list")
/// ```
public struct JSONRPCBody: Sendable, Hashable {
    public var messages: [JSONRPCMessage]
    public var isBatch: Bool

    /// Parses `bytes` within `limits`. Throws `tooLarge` (413) over the size or batch limit, `parseError`
    /// (-32700) for text that is not JSON, `invalidRequest` (-32600) for JSON that is not JSON-RPC 2.0.
    public static func parse(_ bytes: [UInt8], limits: RequestLimits = .init()) throws(RequestRejection)
        -> JSONRPCBody
    {
        guard bytes.count <= limits.maxBodyBytes else {
            throw RequestRejection(.tooLarge, "request body larger than \(limits.maxBodyBytes) bytes")
        }
        guard !bytes.isEmpty else { throw RequestRejection(.parseError, "empty request body") }
        let parsed: Result<Read, JSONParser.Failure> = bytes.withUnsafeBufferPointer { buffer in
            do throws(JSONParser.Failure) {
                return .success(try read(buffer, maxDepth: limits.maxDepth, body: bytes))
            } catch {
                return .failure(error)
            }
        }
        let outcome: Read
        switch parsed {
        case .success(let r): outcome = r
        case .failure(let failure): throw RequestRejection(.parseError, "body is not JSON: \(failure)")
        }
        let items: [Envelope]
        switch outcome {
        case .one(let envelope): return JSONRPCBody(messages: [try message(envelope)], isBatch: false)
        case .batch(let batch): items = batch
        }
        guard !items.isEmpty else { throw RequestRejection(.invalidRequest, "empty batch") }
        guard items.count <= limits.maxBatch else {
            throw RequestRejection(.tooLarge, "batch of \(items.count) messages; at most \(limits.maxBatch)")
        }
        var messages: [JSONRPCMessage] = []
        messages.reserveCapacity(items.count)
        for item in items { messages.append(try message(item)) }
        return JSONRPCBody(messages: messages, isBatch: true)
    }

    /// The members of one message that JSON-RPC gives a meaning, as read and not yet checked (``message(_:)``).
    /// A plain message's object is read member by member into these instead of into a dictionary, which would be
    /// built, hashed into and searched for the same few keys on every request.
    struct Envelope {
        /// False for a batch item that is not an object (its value is read, and dropped).
        var isObject = true
        var id: JSONValue?
        var jsonrpc: JSONValue?
        var method: JSONValue?
        /// Whether there is a `params` member, and the object it is (nil when it is not one).
        var hasParams = false
        var params: JSONRPCParams?
        var hasResult = false
        var hasError = false
    }

    enum Read {
        case one(Envelope)
        case batch([Envelope])
    }

    /// Reads the whole text before any message is checked, so a text that is not JSON is a parse error
    /// wherever its fault is. Every value is checked as ``JSONParser`` checks it (members JSON-RPC does not name
    /// too, for their grammar and duplicate keys), at the depth it has in the text. `bytes` are `body`'s.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int, body: [UInt8]) throws(JSONParser.Failure)
        -> Read
    {
        var reader = JSONParser.Reader(bytes: bytes, maxDepth: maxDepth)
        reader.skipSpace()
        let outcome: Read
        if reader.position < bytes.count, bytes[reader.position] == UInt8(ascii: "[") {
            try reader.checkDepth(0)
            var items: [Envelope] = []
            try reader.elements(depth: 0) { reader throws(JSONParser.Failure) in
                items.append(try envelope(&reader, depth: 1, body: body))
            }
            outcome = .batch(items)
        } else {
            outcome = .one(try envelope(&reader, depth: 0, body: body))
        }
        reader.skipSpace()
        guard reader.position == bytes.count else { throw reader.fail("unexpected text after the JSON value") }
        return outcome
    }

    /// The message at the cursor, nested `depth` levels deep, in `body`.
    static func envelope(_ reader: inout JSONParser.Reader, depth: Int, body: [UInt8]) throws(JSONParser.Failure)
        -> Envelope
    {
        var envelope = Envelope()
        // Plain text first: keys compared as bytes, members JSON-RPC does not name checked without being built
        // (``JSONParser/Reader/plainMembers(depth:_:)``); what that leaves (a value that is not an object too) is
        // read again below, in full.
        var plain = reader
        let read = plain.plainMembers(depth: depth) { reader, key in
            if reader.bytes(in: key, equal: "params") {
                envelope.hasParams = true
                do throws(JSONParser.Failure) {
                    envelope.params = try JSONRPCParams.read(&reader, depth: depth + 1, body: body)
                    return true
                } catch {
                    return false
                }
            }
            if reader.bytes(in: key, equal: "jsonrpc") {
                envelope.jsonrpc = try? reader.value(depth: depth + 1)
                return envelope.jsonrpc != nil
            }
            if reader.bytes(in: key, equal: "id") {
                envelope.id = try? reader.value(depth: depth + 1)
                return envelope.id != nil
            }
            if reader.bytes(in: key, equal: "method") {
                envelope.method = try? reader.value(depth: depth + 1)
                return envelope.method != nil
            }
            if reader.bytes(in: key, equal: "result") { envelope.hasResult = true }
            if reader.bytes(in: key, equal: "error") { envelope.hasError = true }
            return reader.skipPlainValue(depth: depth + 1)
        }
        if read {
            reader = plain
            return envelope
        }
        // Read as any value is; a message's members are taken out of its dictionary.
        guard case .object(let members) = try reader.value(depth: depth) else { return Envelope(isObject: false) }
        var full = Envelope()
        full.jsonrpc = members["jsonrpc"]
        full.id = members["id"]
        full.method = members["method"]
        if let params = members["params"] {
            full.hasParams = true
            if case .object(let values) = params { full.params = JSONRPCParams(values) }
        }
        full.hasResult = members["result"] != nil
        full.hasError = members["error"] != nil
        return full
    }

    static func message(_ envelope: Envelope) throws(RequestRejection) -> JSONRPCMessage {
        guard envelope.isObject else { throw RequestRejection(.invalidRequest, "a message is not a JSON object") }
        var id: JSONValue?
        switch envelope.id {
        case nil: id = nil
        case .string?, .number?: id = envelope.id
        default: throw RequestRejection(.invalidRequest, "`id` must be a string or a number")
        }
        guard case .string("2.0")? = envelope.jsonrpc else {
            throw RequestRejection(.invalidRequest, "`jsonrpc` must be \"2.0\"", id: id)
        }
        guard let methodValue = envelope.method else {
            guard id != nil, envelope.hasResult != envelope.hasError else {
                throw RequestRejection(
                    .invalidRequest, "a message needs a `method`, or an `id` with `result` or `error`", id: id)
            }
            return JSONRPCMessage(kind: .response, id: id, method: "", storage: .empty)
        }
        guard case .string(let method) = methodValue, !method.isEmpty else {
            throw RequestRejection(.invalidRequest, "`method` is not a non-empty string", id: id)
        }
        let params: JSONRPCParams
        switch (envelope.hasParams, envelope.params) {
        case (false, _): params = .empty
        case (true, let p?): params = p
        case (true, nil): throw RequestRejection(.invalidRequest, "`params` is not an object", id: id)
        }
        return JSONRPCMessage(kind: id == nil ? .notification : .request, id: id, method: method, storage: params)
    }
}
