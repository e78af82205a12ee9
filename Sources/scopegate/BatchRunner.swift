import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func posixRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

/// `check --batch`: streams JSON Lines in constant memory, answering each line in order.
struct BatchRunner {
    let policy: CompiledPolicy
    let input: String
    let logPath: String?

    static let chunkSize = 1 << 16

    /// Returns false when some line was bad (the command then exits 2).
    func run() throws -> Bool {
        let fd: Int32 = input == "-" ? 0 : open(input, O_RDONLY)
        guard fd >= 0 else {
            throw Output.fail("cannot read `\(input)`", help: "check the path, or use `-` for standard input")
        }
        defer { if fd != 0 { close(fd) } }
        var logHandle: FileHandle?
        if let logPath {
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: logPath) else {
                throw Output.fail("cannot write the audit log `\(logPath)`")
            }
            h.seekToEndOfFile()
            logHandle = h
        }
        var session = BatchSession(
            processor: BatchProcessor(
                policy: policy, policyVersion: "\(policy.model.contentHash)-1", audit: logHandle != nil),
            logFD: logHandle?.fileDescriptor)
        let maxLineBytes = session.processor.maxLineBytes
        var chunk = [UInt8](repeating: 0, count: Self.chunkSize)
        var pending: [UInt8] = []
        pending.reserveCapacity(2 * Self.chunkSize)
        while true {
            let n = try Self.read(fd, into: &chunk, input: input)
            if n == 0 { break }
            pending.append(contentsOf: chunk[0..<n])
            let consumed = pending.withUnsafeBufferPointer { session.consumeLines($0) }
            pending.removeSubrange(0..<consumed)
            if pending.count > maxLineBytes {
                // An over-long line: answer it once, then skip to its end.
                session.lineNumber += 1
                session.allGood = false
                session.out.append(
                    contentsOf: BatchProcessor.errorLine(
                        session.lineNumber, "line_too_long",
                        "line is longer than \(maxLineBytes) bytes"
                    ).utf8)
                session.out.append(0x0A)
                pending.removeAll(keepingCapacity: true)
                while true {
                    let m = try Self.read(fd, into: &chunk, input: input)
                    if m == 0 { break }
                    if let nl = chunk[0..<m].firstIndex(of: 0x0A) {
                        pending.append(contentsOf: chunk[(nl + 1)..<m])
                        break
                    }
                }
            }
        }
        // What is left: lines kept after an over-long one, then a last line without a newline.
        let consumed = pending.withUnsafeBufferPointer { session.consumeLines($0) }
        pending.removeSubrange(0..<consumed)
        if !pending.isEmpty { pending.withUnsafeBufferPointer { session.handleLine($0) } }
        session.flush(force: true)
        return session.allGood
    }

    /// Fills `buffer` from `fd` until it is full or the input ends (like `FileHandle.readData(ofLength:)`);
    /// returns the byte count, 0 at the end.
    static func read(_ fd: Int32, into buffer: inout [UInt8], input: String) throws -> Int {
        var filled = 0
        let capacity = buffer.count
        while filled < capacity {
            let n = buffer.withUnsafeMutableBytes { raw in
                posixRead(fd, raw.baseAddress.map { $0 + filled }, capacity - filled)
            }
            if n > 0 {
                filled += n
                continue
            }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw Output.fail("cannot read `\(input)`", help: "check the path, or use `-` for standard input")
        }
        return filled
    }
}

/// The batch loop's state: the processor and the output buffers, advanced by mutating methods (no closures
/// capturing mutable state on the hot loop).
struct BatchSession {
    var processor: BatchProcessor
    let logFD: Int32?
    var out: [UInt8] = []
    var logOut: [UInt8] = []
    var lineNumber = 0
    var allGood = true

    init(processor: BatchProcessor, logFD: Int32?) {
        self.processor = processor
        self.logFD = logFD
        out.reserveCapacity(1 << 17)
    }

    /// Answers every complete line in `bytes`; returns how many bytes that consumed.
    mutating func consumeLines(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var start = 0
        while start < bytes.count, let hit = memchr(base + start, 0x0A, bytes.count - start) {
            let newline = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            handleLine(UnsafeBufferPointer(rebasing: bytes[start..<newline]))
            start = newline + 1
        }
        return start
    }

    mutating func handleLine(_ bytes: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        var count = bytes.count
        if count > 0, bytes[count - 1] == 0x0D { count -= 1 }
        var blank = true
        for i in 0..<count where bytes[i] != 0x20 && bytes[i] != 0x09 {
            blank = false
            break
        }
        if blank { return }
        if !processor.process(
            UnsafeBufferPointer(rebasing: bytes[0..<count]), lineNumber: lineNumber, output: &out, audit: &logOut)
        {
            allGood = false
        }
        flush(force: false)
    }

    mutating func flush(force: Bool) {
        if force || out.count > 1 << 16 {
            Self.write(1, out)
            out.removeAll(keepingCapacity: true)
        }
        if let logFD, force || logOut.count > 1 << 16 {
            Self.write(logFD, logOut)
            logOut.removeAll(keepingCapacity: true)
        }
    }

    /// Writes all of `bytes` (a closed or full output ends the writing silently, as `FileHandle.write` did not
    /// report either).
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count, let base = raw.baseAddress {
                let n = posixWrite(fd, base + done, raw.count - done)
                if n > 0 {
                    done += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                return
            }
        }
    }
}

/// Decides one batch request line. Grants are cached by their scope text (tokens repeat across lines).
struct BatchProcessor {
    let policy: CompiledPolicy
    let policyVersion: String
    let audit: Bool
    let maxLineBytes = 1 << 20
    var grantCache: [String: Grant] = [:]
    var grantsByBytes = GrantCache()
    let parser = JSONParser(maxDepth: 32)

    init(policy: CompiledPolicy, policyVersion: String, audit: Bool) {
        self.policy = policy
        self.policyVersion = policyVersion
        self.audit = audit
    }

    static func errorLine(_ line: Int, _ code: String, _ message: String) -> String {
        "{\"v\":1,\"line\":\(line),\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}"
    }

    /// Answers one line (no newline, no trailing CR), appending the Decision or error record and, with `audit`,
    /// the audit event to the buffers, each with a newline; returns false for a bad line. The common shape is
    /// read by ``RequestLineReader`` without building a dictionary; everything else (errors included) goes
    /// through ``processWithJSONParser(_:lineNumber:)``, so both give the same bytes.
    mutating func process(
        _ line: UnsafeBufferPointer<UInt8>, lineNumber: Int, output: inout [UInt8], audit auditOut: inout [UInt8]
    ) -> Bool {
        guard let fields = RequestLineReader.read(line, parser: parser),
            let grant = fastGrant(line, fields),
            case (true, let id) = fastID(line, fields)
        else {
            let result = processWithJSONParser(line, lineNumber: lineNumber)
            output.append(contentsOf: result.output.utf8)
            output.append(0x0A)
            if let audit = result.audit {
                auditOut.append(contentsOf: audit.utf8)
                auditOut.append(0x0A)
            }
            return result.ok
        }
        let call = Call(method: fields.method ?? "tools/call", name: fields.name ?? "", arguments: fields.arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant, line: lineNumber, id: id)
        record.write(to: &output)
        output.append(0x0A)
        if audit {
            let event = AuditEvent(
                decision: decision, record: record, call: call, grant: grant, policy: policy,
                policyVersion: policyVersion, time: Date(), clientID: fields.clientID)
            auditOut.append(contentsOf: event.json.utf8)
            auditOut.append(0x0A)
        }
        return true
    }

    /// The grant for the raw `scopes` value, from the cache keyed by its bytes; nil when a scope string is not
    /// valid UTF-8 (the parser path then reports the line).
    mutating func fastGrant(_ line: UnsafeBufferPointer<UInt8>, _ fields: RequestFields) -> Grant? {
        let key = UnsafeBufferPointer(rebasing: line[fields.scopes])
        let hash = GrantCache.hash(key)
        if let grant = grantsByBytes.lookup(key, hash: hash) { return grant }
        let grant: Grant
        if fields.scopesIsArray {
            var list: [String] = []
            for range in fields.scopeItems {
                guard let s = String(validating: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self) else {
                    return nil
                }
                list.append(s)
            }
            grant = policy.grant(list)
        } else {
            guard
                let s = String(
                    validating: UnsafeBufferPointer(
                        rebasing: line[(fields.scopes.lowerBound + 1)..<(fields.scopes.upperBound - 1)]),
                    as: UTF8.self)
            else { return nil }
            grant = policy.grant(scopeString: s)
        }
        grantsByBytes.insert(key, hash: hash, grant: grant)
        return grant
    }

    /// The id as the record shows it (`JSONValue.jsonText` of a string or number): a plain integer or an
    /// escape-free string is its own source text. Not `valid` (fall back) for invalid UTF-8 or a number the
    /// parser rejects.
    func fastID(_ line: UnsafeBufferPointer<UInt8>, _ fields: RequestFields) -> (valid: Bool, text: String?) {
        guard let range = fields.id else { return (true, nil) }
        let raw = UnsafeBufferPointer(rebasing: line[range])
        if !fields.idIsNumber {
            guard let text = String(validating: raw, as: UTF8.self) else { return (false, nil) }
            return (true, text)
        }
        // The parser reads up to 18 characters of `-?digits` exactly (Int64), and `Decimal` prints them back
        // unchanged, except `-0`.
        if raw.count <= 18, !(raw.count == 2 && raw[0] == UInt8(ascii: "-") && raw[1] == 0x30),
            !raw.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") })
        {
            return (true, String(decoding: raw, as: UTF8.self))
        }
        guard case .number(let d)? = try? parser.parse(raw) else { return (false, nil) }
        return (true, d.description)
    }

    /// The `check --batch` answer through ``JSONParser`` and ``JSONValue`` dictionaries: the reference for
    /// ``process(_:lineNumber:output:audit:)`` (which falls back to it) and for its differential tests.
    mutating func processWithJSONParser(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) -> (
        output: String, audit: String?, ok: Bool
    ) {
        let parsed: JSONValue
        do {
            parsed = try parser.parse(line)
        } catch {
            return (Self.errorLine(lineNumber, "invalid_json", "\(error)"), nil, false)
        }
        guard case .object(let request) = parsed else {
            return (Self.errorLine(lineNumber, "invalid_request", "a request line is a JSON object"), nil, false)
        }
        let known: Set<String> = ["id", "method", "tool", "name", "uri", "arguments", "scopes", "client_id"]
        // With several unknown fields, name the smallest (by UTF-8 bytes): a dictionary's iteration order differs
        // between instances, so "the first one" would make the answer depend on the run (found by Fuzz/jsonl).
        if let unknown = request.keys.filter({ !known.contains($0) })
            .min(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        {
            return (Self.errorLine(lineNumber, "invalid_request", "unknown field \"\(unknown)\""), nil, false)
        }
        var method = "tools/call"
        if let m = request["method"] {
            guard case .string(let s) = m else {
                return (Self.errorLine(lineNumber, "invalid_request", "\"method\" must be a string"), nil, false)
            }
            method = s
        }
        var name: String?
        for key in ["tool", "name", "uri"] {
            if let v = request[key] {
                guard case .string(let s) = v else {
                    return (Self.errorLine(lineNumber, "invalid_request", "\"\(key)\" must be a string"), nil, false)
                }
                name = s
            }
        }
        if name == nil, ["tools/call", "resources/read", "prompts/get"].contains(method) {
            return (Self.errorLine(lineNumber, "invalid_request", "missing \"tool\""), nil, false)
        }
        var arguments: [String: JSONValue] = [:]
        if let a = request["arguments"] {
            switch a {
            case .object(let o): arguments = o
            case .null: break
            default:
                return (Self.errorLine(lineNumber, "invalid_request", "\"arguments\" must be an object"), nil, false)
            }
        }
        var scopeKey = ""
        var scopeList: [String]?
        switch request["scopes"] {
        case .string(let s)?: scopeKey = s
        case .array(let items)?:
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else {
                    return (
                        Self.errorLine(lineNumber, "invalid_request", "\"scopes\" entries must be strings"), nil, false
                    )
                }
                list.append(s)
            }
            scopeList = list
            scopeKey = "\u{1}" + list.joined(separator: "\u{0}")
        case nil: return (Self.errorLine(lineNumber, "invalid_request", "missing \"scopes\""), nil, false)
        default:
            return (
                Self.errorLine(lineNumber, "invalid_request", "\"scopes\" must be a string or an array of strings"),
                nil, false
            )
        }
        let grant: Grant
        if let cached = grantCache[scopeKey] {
            grant = cached
        } else {
            grant = scopeList.map { policy.grant($0) } ?? policy.grant(scopeString: scopeKey)
            if grantCache.count >= 4096 { grantCache.removeAll(keepingCapacity: true) }
            grantCache[scopeKey] = grant
        }
        let id: String? = request["id"].flatMap { v in
            switch v {
            case .string, .number: return v.jsonText
            default: return nil
            }
        }
        let call = Call(method: method, name: name ?? "", arguments: arguments)
        let decision = policy.decide(call, grant: grant)
        let record = policy.record(for: decision, call: call, grant: grant, line: lineNumber, id: id)
        var auditLine: String?
        if audit {
            var clientID: String?
            if case .string(let c)? = request["client_id"] { clientID = c }
            auditLine =
                AuditEvent(
                    decision: decision, record: record, call: call, grant: grant, policy: policy,
                    policyVersion: policyVersion, time: Date(), clientID: clientID
                ).json
        }
        return (record.json, auditLine, true)
    }
}

/// Grants by the raw bytes of a line's `scopes` value (quotes or brackets included, so a string and a list
/// never share a key): direct-mapped, a colliding entry replaces the old one.
struct GrantCache {
    struct Slot {
        var hash: UInt64
        var key: [UInt8]
        var grant: Grant
    }
    static let size = 1024
    var slots: [Slot?] = Array(repeating: nil, count: GrantCache.size)

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    func lookup(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Grant? {
        guard let slot = slots[Int(hash % UInt64(Self.size))], slot.hash == hash, slot.key.count == key.count else {
            return nil
        }
        let same = slot.key.withUnsafeBufferPointer { stored in
            guard let a = stored.baseAddress, let b = key.baseAddress else { return true }
            return memcmp(a, b, key.count) == 0
        }
        return same ? slot.grant : nil
    }

    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, grant: Grant) {
        slots[Int(hash % UInt64(Self.size))] = Slot(hash: hash, key: Array(key), grant: grant)
    }
}

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
}

/// Reads the common shape of a batch request line straight from its bytes: one object whose keys are the known
/// field names (each at most once), strings without escapes, `scopes` a string or a list of strings, `id` a
/// string, number, boolean or null, `arguments` an object (parsed with ``JSONParser``) or null. Anything else
/// (escapes, wrong types, unknown or repeated keys, invalid JSON) returns nil, and the caller answers the line
/// through the parser path, which produces every error record.
enum RequestLineReader {
    enum Key: UInt8 { case id, method, tool, name, uri, arguments, scopes, clientID }

    static func read(_ bytes: UnsafeBufferPointer<UInt8>, parser: JSONParser) -> RequestFields? {
        var c = Cursor(bytes: bytes)
        var fields = RequestFields()
        var seen: UInt8 = 0
        var sawScopes = false
        c.skipSpace()
        guard c.take(UInt8(ascii: "{")) else { return nil }
        c.skipSpace()
        if !c.take(UInt8(ascii: "}")) {
            while true {
                c.skipSpace()
                guard let keyRange = c.simpleString(), let key = key(bytes, keyRange) else { return nil }
                let bit: UInt8 = 1 << key.rawValue
                guard seen & bit == 0 else { return nil }
                seen |= bit
                c.skipSpace()
                guard c.take(UInt8(ascii: ":")) else { return nil }
                c.skipSpace()
                switch key {
                case .id:
                    guard c.position < bytes.count else { return nil }
                    switch bytes[c.position] {
                    case UInt8(ascii: "\""):
                        guard let r = c.simpleString() else { return nil }
                        fields.id = (r.lowerBound - 1)..<(r.upperBound + 1)
                    case UInt8(ascii: "t"): guard c.literal("true") else { return nil }
                    case UInt8(ascii: "f"): guard c.literal("false") else { return nil }
                    case UInt8(ascii: "n"): guard c.literal("null") else { return nil }
                    default:
                        guard let r = c.number() else { return nil }
                        fields.id = r
                        fields.idIsNumber = true
                    }
                case .method, .tool, .name, .uri, .clientID:
                    guard let r = c.simpleString(),
                        let s = String(validating: UnsafeBufferPointer(rebasing: bytes[r]), as: UTF8.self)
                    else { return nil }
                    switch key {
                    case .method: fields.method = s
                    case .tool: fields.tool = s
                    case .name: fields.nameField = s
                    case .uri: fields.uri = s
                    default: fields.clientID = s
                    }
                case .arguments:
                    if c.literal("null") { break }
                    guard c.position < bytes.count, bytes[c.position] == UInt8(ascii: "{"),
                        let parsed = try? parser.parseValue(in: bytes, at: c.position, depth: 1),
                        case .object(let object) = parsed.value
                    else { return nil }
                    fields.arguments = object
                    c.position = parsed.end
                case .scopes:
                    let start = c.position
                    if let r = c.simpleString() {
                        fields.scopes = (r.lowerBound - 1)..<(r.upperBound + 1)
                    } else if c.take(UInt8(ascii: "[")) {
                        fields.scopesIsArray = true
                        c.skipSpace()
                        if !c.take(UInt8(ascii: "]")) {
                            while true {
                                c.skipSpace()
                                guard let r = c.simpleString() else { return nil }
                                fields.scopeItems.append(r)
                                c.skipSpace()
                                if c.take(UInt8(ascii: ",")) { continue }
                                guard c.take(UInt8(ascii: "]")) else { return nil }
                                break
                            }
                        }
                        fields.scopes = start..<c.position
                    } else {
                        return nil
                    }
                    sawScopes = true
                }
                c.skipSpace()
                if c.take(UInt8(ascii: ",")) { continue }
                guard c.take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        c.skipSpace()
        guard c.position == bytes.count, sawScopes else { return nil }
        // A call that needs a name and has none is an error the parser path reports.
        let method = fields.method ?? "tools/call"
        if fields.name == nil, method == "tools/call" || method == "resources/read" || method == "prompts/get" {
            return nil
        }
        return fields
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

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        mutating func skipSpace() {
            while position < bytes.count {
                let b = bytes[position]
                guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                position += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count, let base = bytes.baseAddress,
                memcmp(base + position, word.utf8Start, count) == 0
            else { return false }
            position += count
            return true
        }

        /// A string without escapes or control characters: the range between its quotes (UTF-8 not checked).
        mutating func simpleString() -> Range<Int>? {
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
            let start = position + 1
            var i = start
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    position = i + 1
                    return start..<i
                }
                if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
                i += 1
            }
            return nil
        }

        /// A JSON number (the parser's grammar, at most 64 characters): its range.
        mutating func number() -> Range<Int>? {
            let start = position
            var i = position
            func digit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digit(i) else { return nil }
            if bytes[i] == 0x30 { i += 1 } else { while digit(i) { i += 1 } }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard digit(i) else { return nil }
                while digit(i) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard digit(i) else { return nil }
                while digit(i) { i += 1 }
            }
            guard i - start <= 64 else { return nil }
            position = i
            return start..<i
        }
    }
}
