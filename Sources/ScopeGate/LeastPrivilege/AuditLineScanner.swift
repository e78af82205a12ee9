#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads one audit-event line with ``JSONParser/Reader``: checks it is a single well-formed JSON object and
/// extracts the byte ranges of `client_id`, `required` and `granted` and the values of `allowed` and
/// `would_deny`. Values of other fields are skipped, not decoded.
struct AuditLineScanner {
    struct Failure: Error { let message: String }
    struct Fields {
        var clientID: Range<Int>?
        /// Whether the call went through: allowed, or denied in shadow mode (`"would_deny": true`) and let
        /// through. Either way its requirement is what the client used.
        var allowed: Bool
        var required: Range<Int>
        var granted: Range<Int>
    }

    var reader: JSONParser.Reader
    var bytes: UnsafeBufferPointer<UInt8> { reader.bytes }

    init(bytes: UnsafeBufferPointer<UInt8>) { reader = JSONParser.Reader(bytes: bytes, maxDepth: 32) }

    func fail(_ m: String) -> JSONParser.Failure { reader.fail(m) }

    mutating func expect(_ c: UInt8, _ what: String) throws(JSONParser.Failure) {
        guard reader.take(c) else {
            throw fail(
                reader.position < bytes.count ? "expected \(what)" : "unexpected end of line, expected \(what)")
        }
    }

    /// An array of strings; returns its byte range (brackets included).
    mutating func stringArray(_ key: String) throws(JSONParser.Failure) -> Range<Int> {
        let start = reader.position
        guard reader.take(0x5B) else { throw fail("\"\(key)\" must be an array of strings") }
        reader.skipSpace()
        if reader.take(0x5D) { return start..<reader.position }
        while true {
            reader.skipSpace()
            guard reader.position < bytes.count, bytes[reader.position] == 0x22 else {
                throw fail("\"\(key)\" must be an array of strings")
            }
            _ = try reader.skipString()
            reader.skipSpace()
            guard reader.position < bytes.count else { throw fail("unexpected end of line in array") }
            if reader.take(0x2C) { continue }
            try expect(0x5D, "`,` or `]`")
            return start..<reader.position
        }
    }

    /// Compares the key just read (`start..<end`, quotes excluded) with a field name.
    func keyIs(_ start: Int, _ end: Int, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard end - start == n, let base = bytes.baseAddress else { return false }
        return memcmp(base + start, name.utf8Start, n) == 0
    }

    mutating func scan() throws(Failure) -> Fields {
        guard bytes.baseAddress != nil else { throw Failure(message: fail("empty line").description) }
        var version = false
        var clientSeen = false
        var clientID: Range<Int>?
        var allowed: Bool?
        var wouldDeny = false
        var required: Range<Int>?
        var granted: Range<Int>?
        do throws(JSONParser.Failure) {
            reader.skipSpace()
            guard reader.take(0x7B) else { throw fail("an audit event is a JSON object; expected `{`") }
            reader.skipSpace()
            if !reader.take(0x7D) {
                while true {
                    reader.skipSpace()
                    let keyStart = reader.position + 1
                    let escaped = try reader.skipString()
                    let keyEnd = reader.position - 1
                    reader.skipSpace()
                    try expect(0x3A, "`:`")
                    reader.skipSpace()
                    func dup(_ seen: Bool, _ name: String) throws(JSONParser.Failure) {
                        if seen { throw fail("duplicate key \"\(name)\"") }
                    }
                    if escaped {
                        try reader.skipValue(depth: 1)  // keys with escapes are never the fields we read
                    } else if keyIs(keyStart, keyEnd, "v") {
                        try dup(version, "v")
                        let s = reader.position
                        try reader.skipValue(depth: 1)
                        guard reader.position - s == 1, bytes[s] == 0x31 else {
                            reader.position = s
                            throw fail("unsupported record version (\"v\" must be 1)")
                        }
                        version = true
                    } else if keyIs(keyStart, keyEnd, "client_id") {
                        try dup(clientSeen, "client_id")
                        clientSeen = true
                        let s = reader.position
                        if reader.position < bytes.count, bytes[reader.position] == 0x6E {
                            try reader.literal("null")
                        } else {
                            guard reader.position < bytes.count, bytes[reader.position] == 0x22 else {
                                throw fail("\"client_id\" must be a string or null")
                            }
                            _ = try reader.skipString()
                            clientID = s..<reader.position
                        }
                    } else if keyIs(keyStart, keyEnd, "allowed") {
                        try dup(allowed != nil, "allowed")
                        if reader.position < bytes.count, bytes[reader.position] == 0x74 {
                            try reader.literal("true")
                            allowed = true
                        } else if reader.position < bytes.count, bytes[reader.position] == 0x66 {
                            try reader.literal("false")
                            allowed = false
                        } else {
                            throw fail("\"allowed\" must be true or false")
                        }
                    } else if keyIs(keyStart, keyEnd, "would_deny") {
                        if reader.position < bytes.count, bytes[reader.position] == 0x74 {
                            try reader.literal("true")
                            wouldDeny = true
                        } else {
                            try reader.skipValue(depth: 1)
                        }
                    } else if keyIs(keyStart, keyEnd, "required") {
                        try dup(required != nil, "required")
                        required = try stringArray("required")
                    } else if keyIs(keyStart, keyEnd, "granted") {
                        try dup(granted != nil, "granted")
                        granted = try stringArray("granted")
                    } else {
                        try reader.skipValue(depth: 1)
                    }
                    reader.skipSpace()
                    guard reader.position < bytes.count else { throw fail("unexpected end of line in object") }
                    if reader.take(0x2C) { continue }
                    try expect(0x7D, "`,` or `}`")
                    break
                }
            }
            reader.skipSpace()
            guard reader.position == bytes.count else { throw fail("unexpected text after the JSON object") }
        } catch {
            throw Failure(message: error.description)
        }
        var missing: [String] = []
        if !version { missing.append("\"v\"") }
        if !clientSeen { missing.append("\"client_id\"") }
        if allowed == nil { missing.append("\"allowed\"") }
        if required == nil { missing.append("\"required\"") }
        if granted == nil { missing.append("\"granted\"") }
        guard missing.isEmpty, let allowed, let required, let granted else {
            throw Failure(message: "not an audit event: missing " + missing.joined(separator: ", "))
        }
        return Fields(clientID: clientID, allowed: allowed || wouldDeny, required: required, granted: granted)
    }
}
