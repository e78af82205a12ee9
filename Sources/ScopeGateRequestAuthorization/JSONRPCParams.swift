import ScopeGate

/// A message's `params`: the members authorization reads (`name`, `uri`, `arguments`, `_meta`'s protocol version,
/// whether `inputResponses` is there), taken out when the body is read, and the whole object, kept as the body's
/// text and made into values only when ``JSONRPCMessage/params`` is asked for: building the whole object would make
/// dictionaries and strings of a request's `_meta` and of members no rule reads, on every request, only to drop
/// them (about 4,000 of the proxy's 160,000 instructions a `tools/call`, docs/performance.md).
struct JSONRPCParams: Sendable {
    var name: JSONValue?
    var uri: JSONValue?
    var arguments: JSONValue?
    /// `_meta["io.modelcontextprotocol/protocolVersion"]`, when `_meta` is an object and that member a string.
    var metaProtocolVersion: String?
    var hasInputResponses = false
    var source: Source

    enum Source: Sendable {
        /// The object's values: a message made in code, or a text the plain reading left to the full one.
        case values([String: JSONValue])
        /// The object's text in `body`, checked when the body was read.
        case text(body: [UInt8], range: Range<Int>)
    }

    static let empty = JSONRPCParams([:])

    init(_ values: [String: JSONValue]) {
        source = .values(values)
        name = values.value(named: "name")
        uri = values.value(named: "uri")
        arguments = values.value(named: "arguments")
        hasInputResponses = values.value(named: "inputResponses") != nil
        if case .object(let meta)? = values.value(named: "_meta"),
            case .string(let version)? = meta.value(named: "io.modelcontextprotocol/protocolVersion")
        {
            metaProtocolVersion = version
        }
    }

    private init(text body: [UInt8], range: Range<Int>) { source = .text(body: body, range: range) }

    /// The whole object.
    var values: [String: JSONValue] {
        switch source {
        case .values(let values): return values
        case .text(let body, let range):
            // The text passed every check of this parser when the body was read; it reads the same now.
            let value = body.withUnsafeBufferPointer { buffer in
                try? JSONParser(maxDepth: .max).parseValue(in: buffer, at: range.lowerBound, depth: 0).value
            }
            guard case .object(let values)? = value else { return [:] }
            return values
        }
    }

    /// The member `key`.
    func value(named key: String) -> JSONValue? {
        switch key {
        case "name": return name
        case "uri": return uri
        case "arguments": return arguments
        default: return values.value(named: key)
        }
    }

    /// Reads the value at the cursor, nested `depth` levels deep, in `body` (the bytes `reader` reads): nil when it
    /// is not an object. Plain text (``JSONParser/Reader/plainMembers(depth:_:)``) is checked and only the members
    /// above are made into values; anything else is read in full, as strictly, with the same failures.
    static func read(_ reader: inout JSONParser.Reader, depth: Int, body: [UInt8]) throws(JSONParser.Failure)
        -> JSONRPCParams?
    {
        let start = reader.position
        var plain = reader
        var params = JSONRPCParams(text: body, range: start..<start)
        let bytes = reader.bytes
        let read = plain.plainMembers(depth: depth) { reader, key in
            func value(_ reader: inout JSONParser.Reader) -> JSONValue? { try? reader.value(depth: depth + 1) }
            if reader.bytes(in: key, equal: "name") {
                params.name = value(&reader)
                return params.name != nil
            }
            if reader.bytes(in: key, equal: "uri") {
                params.uri = value(&reader)
                return params.uri != nil
            }
            if reader.bytes(in: key, equal: "arguments") {
                params.arguments = value(&reader)
                return params.arguments != nil
            }
            if reader.bytes(in: key, equal: "inputResponses") { params.hasInputResponses = true }
            guard reader.bytes(in: key, equal: "_meta"), reader.position < bytes.count,
                bytes[reader.position] == UInt8(ascii: "{")
            else { return reader.skipPlainValue(depth: depth + 1) }
            return reader.plainMembers(depth: depth + 1) { reader, key in
                guard reader.bytes(in: key, equal: "io.modelcontextprotocol/protocolVersion") else {
                    return reader.skipPlainValue(depth: depth + 2)
                }
                guard let version = try? reader.value(depth: depth + 2) else { return false }
                if case .string(let text) = version { params.metaProtocolVersion = text }
                return true
            }
        }
        if read {
            reader = plain
            params.source = .text(body: body, range: start..<reader.position)
            return params
        }
        guard case .object(let values) = try reader.value(depth: depth) else { return nil }
        return JSONRPCParams(values)
    }
}
