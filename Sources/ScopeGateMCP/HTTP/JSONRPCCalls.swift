import Foundation
import ScopeGate

/// The authorization-relevant content of a JSON-RPC body: one ``Call`` per request or notification, read with
/// the core's strict parser (duplicate keys, trailing bytes, deep nesting and bad UTF-8 are refused, so this
/// reading and the SDK's can never disagree about which `name` or `arguments` a message carries).
struct JSONRPCCalls: Sendable {
    struct Message: Sendable {
        /// The request id (nil for notifications and responses).
        var id: JSONValue?
        /// The call to decide; nil for a response to a server-initiated request (needs only a valid token).
        var call: Call?
    }

    var messages: [Message]
    var isBatch: Bool

    struct Failure: Error, Sendable {
        enum Kind: Sendable { case parse, invalid, headerMismatch }
        var kind: Kind
        var message: String
    }

    /// Reads `body`. `maxDepth` bounds nesting, `maxBatch` the number of messages.
    static func read(_ body: Data, maxDepth: Int, maxBatch: Int) throws(Failure) -> JSONRPCCalls {
        let value: JSONValue
        do {
            value = try body.withUnsafeBytes { raw throws(JSONParser.Failure) -> JSONValue in
                try JSONParser(maxDepth: maxDepth).parse(raw.bindMemory(to: UInt8.self))
            }
        } catch {
            throw Failure(kind: .parse, message: "\(error)")
        }
        switch value {
        case .array(let items):
            guard !items.isEmpty else { throw Failure(kind: .invalid, message: "empty batch") }
            guard items.count <= maxBatch else {
                throw Failure(kind: .invalid, message: "batch larger than \(maxBatch)")
            }
            var messages: [Message] = []
            for item in items { messages.append(try message(item)) }
            return JSONRPCCalls(messages: messages, isBatch: true)
        default:
            return JSONRPCCalls(messages: [try message(value)], isBatch: false)
        }
    }

    static func message(_ value: JSONValue) throws(Failure) -> Message {
        guard case .object(let object) = value else {
            throw Failure(kind: .invalid, message: "a message is not an object")
        }
        guard case .string("2.0")? = object["jsonrpc"] else {
            throw Failure(kind: .invalid, message: "`jsonrpc` must be \"2.0\"")
        }
        let id = object["id"]
        guard let methodValue = object["method"] else {
            guard object["result"] != nil || object["error"] != nil, id != nil else {
                throw Failure(kind: .invalid, message: "a message has no `method`")
            }
            return Message(id: id, call: nil)
        }
        guard case .string(let method) = methodValue, !method.isEmpty else {
            throw Failure(kind: .invalid, message: "`method` is not a non-empty string")
        }
        var params: [String: JSONValue] = [:]
        switch object["params"] {
        case nil, .null?: break
        case .object(let p)?: params = p
        default: throw Failure(kind: .invalid, message: "`params` is not an object")
        }
        func string(_ key: String) throws(Failure) -> String {
            guard case .string(let s)? = params[key] else {
                throw Failure(kind: .invalid, message: "`\(method)` needs a string `params.\(key)`")
            }
            return s
        }
        func arguments() throws(Failure) -> [String: JSONValue] {
            switch params["arguments"] {
            case nil, .null?: return [:]
            case .object(let a)?: return a
            default: throw Failure(kind: .invalid, message: "`params.arguments` is not an object")
            }
        }
        switch method {
        case "tools/call":
            return Message(id: id, call: Call(method: method, name: try string("name"), arguments: try arguments()))
        case "prompts/get":
            return Message(id: id, call: Call(method: method, name: try string("name"), arguments: try arguments()))
        case "resources/read": return Message(id: id, call: Call(method: method, name: try string("uri")))
        default: return Message(id: id, call: Call(method: method))
        }
    }

    /// Checks the `Mcp-Method` / `Mcp-Name` hints against the body (the body is the source of truth; a hint that
    /// disagrees with it is refused, so a gateway trusting the headers can never be steered around the policy).
    func checkHints(method: String?, name: String?) throws(Failure) {
        if method == nil, name == nil { return }
        for message in messages {
            guard let call = message.call else {
                throw Failure(kind: .headerMismatch, message: "`Mcp-Method` given for a message that is not a request")
            }
            if let method, method != call.method {
                throw Failure(kind: .headerMismatch, message: "`Mcp-Method` does not match the body's `method`")
            }
            if let name {
                let named =
                    call.method == "tools/call" || call.method == "prompts/get" || call.method == "resources/read"
                guard named, name == call.name else {
                    throw Failure(kind: .headerMismatch, message: "`Mcp-Name` does not match the body's name")
                }
            }
        }
    }
}
