import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The fields of one request line found by ``RequestLineReader``, as ranges into the line where the bytes
/// are kept as they are.
struct RequestFields {
    var method: String?
    /// `uri`, else `name`, else `tool` (the order the parser path applies).
    var name: String? { uri ?? nameField ?? tool }
    var tool: String?
    var nameField: String?
    var uri: String?
    var arguments: [String: JSONValue] = [:]
    /// The raw `scopes` value, quotes or brackets included.
    var scopes: Range<Int> = 0..<0
    var scopesIsArray = false
    /// With an array: each item's text between its quotes.
    var scopeItems: [Range<Int>] = []
    /// The raw `id` (a string with its quotes, or a number); nil when absent, `null` or a boolean.
    var id: Range<Int>?
    var idIsNumber = false
    var clientID: String?

    /// Back to an empty line's fields, keeping the buffer of `scopeItems`.
    mutating func reset() {
        method = nil
        tool = nil
        nameField = nil
        uri = nil
        if !arguments.isEmpty { arguments = [:] }
        scopes = 0..<0
        scopesIsArray = false
        scopeItems.removeAll(keepingCapacity: true)
        id = nil
        idIsNumber = false
        clientID = nil
    }
}

/// Reads the common shape of a batch request line straight from its bytes with ``JSONParser``'s cursor: one
/// object whose keys are the known field names (each at most once), strings without escapes, `scopes` a string or
/// a list of strings, `id` a string, number, boolean or null, `arguments` an object (built as ``JSONValue``) or
/// null. Anything else (escapes, wrong types, unknown or repeated keys, invalid JSON) returns nil, and the caller
/// answers the line through the parser path, which produces every error record.
enum RequestLineReader {
    enum Key: UInt8 { case id, method, tool, name, uri, arguments, scopes, clientID }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>, parser: JSONParser) -> RequestFields? {
        var fields = RequestFields()
        return read(bytes, parser: parser, into: &fields) ? fields : nil
    }

    /// Reads into `fields` (which starts out reset); returns false when the line needs the parser path.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, parser: JSONParser, into fields: inout RequestFields) -> Bool
    {
        var c = JSONParser.Reader(bytes: bytes, maxDepth: parser.maxDepth)
        var seen: UInt8 = 0
        var sawScopes = false
        c.skipSpace()
        guard c.take(UInt8(ascii: "{")) else { return false }
        c.skipSpace()
        if !c.take(UInt8(ascii: "}")) {
            while true {
                c.skipSpace()
                guard let keyRange = c.plainString(), let key = key(bytes, keyRange) else { return false }
                let bit: UInt8 = 1 << key.rawValue
                guard seen & bit == 0 else { return false }
                seen |= bit
                c.skipSpace()
                guard c.take(UInt8(ascii: ":")) else { return false }
                c.skipSpace()
                switch key {
                case .id:
                    guard c.position < bytes.count else { return false }
                    switch bytes[c.position] {
                    case UInt8(ascii: "\""):
                        guard let r = c.plainString() else { return false }
                        fields.id = (r.lowerBound - 1)..<(r.upperBound + 1)
                    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                        guard (try? c.skipValue(depth: 1)) != nil else { return false }
                    default:
                        guard let r = try? c.numberSpan() else { return false }
                        fields.id = r
                        fields.idIsNumber = true
                    }
                case .method, .tool, .name, .uri, .clientID:
                    guard let r = c.plainString(),
                        let s = UTF8Text.string(UnsafeBufferPointer(rebasing: bytes[r]))
                    else { return false }
                    switch key {
                    case .method: fields.method = s
                    case .tool: fields.tool = s
                    case .name: fields.nameField = s
                    case .uri: fields.uri = s
                    default: fields.clientID = s
                    }
                case .arguments:
                    if (try? c.literal("null")) != nil { break }
                    guard c.position < bytes.count, bytes[c.position] == UInt8(ascii: "{"),
                        case .object(let object)? = try? c.value(depth: 1)
                    else { return false }
                    fields.arguments = object
                case .scopes:
                    let start = c.position
                    if let r = c.plainString() {
                        fields.scopes = (r.lowerBound - 1)..<(r.upperBound + 1)
                    } else if c.take(UInt8(ascii: "[")) {
                        fields.scopesIsArray = true
                        c.skipSpace()
                        if !c.take(UInt8(ascii: "]")) {
                            while true {
                                c.skipSpace()
                                guard let r = c.plainString() else { return false }
                                fields.scopeItems.append(r)
                                c.skipSpace()
                                if c.take(UInt8(ascii: ",")) { continue }
                                guard c.take(UInt8(ascii: "]")) else { return false }
                                break
                            }
                        }
                        fields.scopes = start..<c.position
                    } else {
                        return false
                    }
                    sawScopes = true
                }
                c.skipSpace()
                if c.take(UInt8(ascii: ",")) { continue }
                guard c.take(UInt8(ascii: "}")) else { return false }
                break
            }
        }
        c.skipSpace()
        guard c.position == bytes.count, sawScopes else { return false }
        // A call that needs a name and has none is an error the parser path reports.
        let method = fields.method ?? "tools/call"
        if fields.name == nil, method == "tools/call" || method == "resources/read" || method == "prompts/get" {
            return false
        }
        return true
    }

    static func key(_ bytes: UnsafeBufferPointer<UInt8>, _ r: Range<Int>) -> Key? {
        let k = UnsafeBufferPointer(rebasing: bytes[r])
        func equals(_ s: StaticString) -> Bool {
            guard k.count == s.utf8CodeUnitCount, let base = k.baseAddress else { return false }
            return memcmp(base, s.utf8Start, k.count) == 0
        }
        switch k.count {
        case 2: return equals("id") ? .id : nil
        case 3: return equals("uri") ? .uri : nil
        case 4: return equals("tool") ? .tool : equals("name") ? .name : nil
        case 6: return equals("scopes") ? .scopes : equals("method") ? .method : nil
        case 9: return equals("arguments") ? .arguments : equals("client_id") ? .clientID : nil
        default: return nil
        }
    }
}
