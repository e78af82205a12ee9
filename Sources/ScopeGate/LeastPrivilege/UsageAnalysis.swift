import Foundation

/// A malformed audit-log line: its 1-based number and what is wrong with it.
public struct UsageLineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the log.
    public var line: Int
    /// Lowercase message without a final period.
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// What one client did according to an audit log: how many events, and — for the allowed calls only — the
/// distinct `required` clauses; plus every scope string it was ever granted. Argument values are never read.
public struct ClientUsage: Sendable, Hashable {
    /// The event's `client_id`; `nil` for events without one.
    public var clientID: String?
    /// Events read for this client (allowed and denied).
    public var events: Int
    /// Allowed events.
    public var allowed: Int
    /// Distinct `required` clauses of allowed calls, each sorted by name (UTF-8 bytes); empty clauses dropped.
    public var requiredClauses: [[String]]
    /// Union of the `granted` strings of every event, sorted.
    public var granted: [String]

    public init(clientID: String?, events: Int, allowed: Int, requiredClauses: [[String]], granted: [String]) {
        self.clientID = clientID
        self.events = events
        self.allowed = allowed
        self.requiredClauses = requiredClauses
        self.granted = granted
    }
}

/// Aggregates audit events (design.md "Records", one JSON object per line) per client in bounded memory: it
/// keeps only distinct `required` clauses and distinct `granted` lists per client, never the lines. Only the
/// fields `v`, `client_id`, `allowed`, `required` and `granted` are read (by a purpose-built scanner that still
/// checks the whole line is one well-formed JSON object); repeated field texts are recognized by their bytes,
/// so the steady state allocates nothing per line.
public struct UsageAggregator: Sendable {
    /// Only aggregate events of this client (others are still checked for well-formedness).
    public let clientFilter: String?
    /// Lines longer than this are reported as malformed and skipped.
    public var maxLineBytes: Int = 1 << 20
    /// Non-blank lines seen.
    public private(set) var lines = 0
    /// Malformed lines seen.
    public private(set) var malformed = 0

    struct Client {
        var id: String?
        var events = 0
        var allowed = 0
        var clauses = Set<Int32>()
        var grants = Set<Int32>()
    }

    var clients: [Client] = []
    var clientIndex: [String?: Int] = [:]
    /// Interned clauses and granted lists.
    var clauseList: [[String]] = []
    var clauseIndex: [[String]: Int32] = [:]
    var grantList: [[String]] = []
    var grantIndex: [[String]: Int32] = [:]
    /// Raw-bytes caches: field text → interned value. Cleared when large (they are only caches).
    var rawClients = RawCache()
    var rawClauses = RawCache()
    var rawGrants = RawCache()

    /// Creates an aggregator, optionally restricted to one client id.
    public init(clientFilter: String? = nil) { self.clientFilter = clientFilter }

    /// The per-client usage, sorted by client id (events without a client id last).
    public var usage: [ClientUsage] {
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return clients.filter { clientFilter == nil || $0.id == clientFilter }.map { c in
            let clauses = c.clauses.map { clauseList[Int($0)] }.filter { !$0.isEmpty }
                .sorted { $0.lexicographicallyPrecedes($1, by: byName) }
            var granted = Set<String>()
            for g in c.grants { granted.formUnion(grantList[Int(g)]) }
            return ClientUsage(
                clientID: c.id, events: c.events, allowed: c.allowed, requiredClauses: clauses,
                granted: granted.sorted(by: byName))
        }.sorted { a, b in
            switch (a.clientID, b.clientID) {
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?): return byName(x, y)
            }
        }
    }

    /// Every client id seen (sorted), whatever the filter.
    public var clientIDs: [String] { clients.compactMap(\.id).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

    /// Adds one line (without its newline). Blank lines are skipped. Returns the problem for a malformed line.
    @discardableResult
    public mutating func add(line text: String, number: Int) -> UsageLineError? {
        var copy = text
        return copy.withUTF8 { add(line: $0, number: number) }
    }

    /// Adds one line given as UTF-8 bytes (without its newline; a trailing CR is ignored).
    @discardableResult
    public mutating func add(line raw: UnsafeBufferPointer<UInt8>, number: Int) -> UsageLineError? {
        var bytes = raw
        if let last = bytes.last, last == 0x0D { bytes = UnsafeBufferPointer(rebasing: bytes.dropLast()) }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        lines += 1
        if bytes.count > maxLineBytes {
            malformed += 1
            return UsageLineError(line: number, message: "line is longer than \(maxLineBytes) bytes")
        }
        var scanner = AuditLineScanner(bytes: bytes)
        let fields: AuditLineScanner.Fields
        do throws(AuditLineScanner.Failure) {
            fields = try scanner.scan()
        } catch {
            malformed += 1
            return UsageLineError(line: number, message: error.message)
        }
        // Resolve the client (cached by raw bytes).
        let clientSlot: Int
        if let range = fields.clientID {
            let slice = UnsafeBufferPointer(rebasing: bytes[range])
            if let cached = rawClients.lookup(slice) {
                clientSlot = Int(cached)
            } else {
                guard case .string(let name)? = try? JSONParser().parse(slice) else {
                    malformed += 1
                    return UsageLineError(line: number, message: "\"client_id\" is not a valid string")
                }
                clientSlot = slot(for: name)
                rawClients.insert(slice, Int32(clientSlot))
            }
        } else {
            clientSlot = slot(for: nil)
        }
        if let filter = clientFilter, clients[clientSlot].id != filter { return nil }
        let grantID: Int32
        let grantSlice = UnsafeBufferPointer(rebasing: bytes[fields.granted])
        if let cached = rawGrants.lookup(grantSlice) {
            grantID = cached
        } else {
            guard let list = Self.strings(grantSlice) else {
                malformed += 1
                return UsageLineError(line: number, message: "\"granted\" is not an array of valid strings")
            }
            let key = Array(Set(list)).sorted()
            if let known = grantIndex[key] {
                grantID = known
            } else {
                grantID = Int32(grantList.count)
                grantList.append(key)
                grantIndex[key] = grantID
            }
            rawGrants.insert(grantSlice, grantID)
        }
        var clauseID: Int32 = -1
        if fields.allowed {
            let slice = UnsafeBufferPointer(rebasing: bytes[fields.required])
            if let cached = rawClauses.lookup(slice) {
                clauseID = cached
            } else {
                guard let list = Self.strings(slice) else {
                    malformed += 1
                    return UsageLineError(line: number, message: "\"required\" is not an array of valid strings")
                }
                let key = Array(Set(list)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                if let known = clauseIndex[key] {
                    clauseID = known
                } else {
                    clauseID = Int32(clauseList.count)
                    clauseList.append(key)
                    clauseIndex[key] = clauseID
                }
                rawClauses.insert(slice, clauseID)
            }
        }
        clients[clientSlot].events += 1
        clients[clientSlot].grants.insert(grantID)
        if fields.allowed {
            clients[clientSlot].allowed += 1
            clients[clientSlot].clauses.insert(clauseID)
        }
        return nil
    }

    mutating func slot(for name: String?) -> Int {
        if let i = clientIndex[name] { return i }
        clients.append(Client(id: name))
        clientIndex[name] = clients.count - 1
        return clients.count - 1
    }

    static func strings(_ slice: UnsafeBufferPointer<UInt8>) -> [String]? {
        guard case .array(let items)? = try? JSONParser(maxDepth: 2).parse(slice) else { return nil }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { return nil }
            out.append(s)
        }
        return out
    }

    /// Reads a whole log from a file descriptor in fixed-size chunks (memory stays bounded by the chunk size and
    /// `maxLineBytes`), calling `onError` for each malformed line. Returns false if a read failed.
    public mutating func consume(fileDescriptor fd: Int32, onError: (UsageLineError) -> Void) -> Bool {
        let capacity = max(1 << 22, maxLineBytes + 1)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var lineNumber = 0
        var skipping = false  // inside an over-long line, discarding up to its newline
        while true {
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            let end = filled + n
            var start = 0
            while start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let nlIndex = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                lineNumber += 1
                if skipping {
                    skipping = false
                } else if let e = add(
                    line: UnsafeBufferPointer(start: buffer + start, count: nlIndex - start), number: lineNumber)
                {
                    onError(e)
                }
                start = nlIndex + 1
            }
            if n == 0 {
                if start < end, !skipping {
                    lineNumber += 1
                    if let e = add(
                        line: UnsafeBufferPointer(start: buffer + start, count: end - start), number: lineNumber)
                    {
                        onError(e)
                    }
                }
                return true
            }
            // Keep the partial line; if it alone fills the buffer it is over-long: report it and skip to its end.
            let rest = end - start
            if rest >= capacity || (rest > maxLineBytes && !skipping) {
                if !skipping {
                    lines += 1
                    malformed += 1
                    onError(UsageLineError(line: lineNumber + 1, message: "line is longer than \(maxLineBytes) bytes"))
                    skipping = true
                }
                filled = 0
            } else {
                if start > 0 && rest > 0 { memmove(buffer, buffer + start, rest) }
                filled = rest
            }
        }
    }
}

/// A byte-keyed cache from a field's raw JSON text to an interned id, compared by bytes on hash hits.
struct RawCache: Sendable {
    var buckets: [UInt64: [([UInt8], Int32)]] = [:]
    var count = 0
    let limit = 1 << 16

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32? {
        guard let bucket = buckets[Self.hash(bytes)] else { return nil }
        for (raw, id) in bucket where raw.count == bytes.count {
            let same = raw.withUnsafeBufferPointer { r in
                guard let a = r.baseAddress, let b = bytes.baseAddress else { return bytes.count == 0 }
                return memcmp(a, b, bytes.count) == 0
            }
            if same { return id }
        }
        return nil
    }

    mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ id: Int32) {
        if count >= limit {
            buckets.removeAll(keepingCapacity: true)
            count = 0
        }
        buckets[Self.hash(bytes), default: []].append((Array(bytes), id))
        count += 1
    }
}

/// Scans one audit-event line: checks it is a single well-formed JSON object and extracts the byte ranges of
/// `client_id`, `required` and `granted` and the value of `allowed`. Values of other fields are skipped, not decoded.
struct AuditLineScanner {
    struct Failure: Error { let message: String }
    struct Fields {
        var clientID: Range<Int>?
        var allowed: Bool
        var required: Range<Int>
        var granted: Range<Int>
    }

    let bytes: UnsafeBufferPointer<UInt8>
    var p = 0
    let maxDepth = 32

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func fail(_ m: String) -> Failure { Failure(message: "\(m) at byte \(p + 1)") }

    mutating func ws() {
        while p < bytes.count {
            let b = bytes[p]
            if b != 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { return }
            p += 1
        }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
        guard p < bytes.count, bytes[p] == c else {
            throw fail(p < bytes.count ? "expected \(what)" : "unexpected end of line, expected \(what)")
        }
        p += 1
    }

    /// Skips a string starting at `p` (the opening quote); returns whether it contained an escape.
    @discardableResult
    mutating func string() throws(Failure) -> Bool {
        try expect(0x22, "a string")
        var escaped = false
        while p < bytes.count {
            let b = bytes[p]
            if b == 0x22 {
                p += 1
                return escaped
            }
            if b < 0x20 { throw fail("control character in string") }
            if b == 0x5C {
                escaped = true
                p += 1
                guard p < bytes.count else { break }
                switch bytes[p] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: p += 1
                case 0x75:
                    guard p + 4 < bytes.count else { throw fail("invalid \\u escape") }
                    for k in 1...4 {
                        let h = bytes[p + k]
                        guard (h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66) else {
                            throw fail("invalid \\u escape")
                        }
                    }
                    p += 5
                default: throw fail("invalid escape")
                }
                continue
            }
            p += 1
        }
        throw fail("unterminated string")
    }

    mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard p + n <= bytes.count, let base = bytes.baseAddress, memcmp(base + p, word.utf8Start, n) == 0 else {
            throw fail("invalid value")
        }
        p += n
    }

    mutating func number() throws(Failure) {
        let start = p
        if p < bytes.count, bytes[p] == 0x2D { p += 1 }
        func digits(_ s: inout AuditLineScanner) -> Int {
            let from = s.p
            while s.p < s.bytes.count, s.bytes[s.p] >= 0x30, s.bytes[s.p] <= 0x39 { s.p += 1 }
            return s.p - from
        }
        let intDigits = digits(&self)
        guard intDigits > 0, !(intDigits > 1 && bytes[p - intDigits] == 0x30) else {
            p = start
            throw fail("invalid value")
        }
        if p < bytes.count, bytes[p] == 0x2E {
            p += 1
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if p < bytes.count, bytes[p] == 0x65 || bytes[p] == 0x45 {
            p += 1
            if p < bytes.count, bytes[p] == 0x2B || bytes[p] == 0x2D { p += 1 }
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
    }

    mutating func value(_ depth: Int) throws(Failure) {
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth)") }
        guard p < bytes.count else { throw fail("unexpected end of line") }
        switch bytes[p] {
        case 0x22: try string()
        case 0x7B:
            p += 1
            ws()
            if p < bytes.count, bytes[p] == 0x7D {
                p += 1
                return
            }
            while true {
                ws()
                try string()
                ws()
                try expect(0x3A, "`:`")
                ws()
                try value(depth + 1)
                ws()
                guard p < bytes.count else { throw fail("unexpected end of line in object") }
                if bytes[p] == 0x2C {
                    p += 1
                    continue
                }
                try expect(0x7D, "`,` or `}`")
                return
            }
        case 0x5B:
            p += 1
            ws()
            if p < bytes.count, bytes[p] == 0x5D {
                p += 1
                return
            }
            while true {
                ws()
                try value(depth + 1)
                ws()
                guard p < bytes.count else { throw fail("unexpected end of line in array") }
                if bytes[p] == 0x2C {
                    p += 1
                    continue
                }
                try expect(0x5D, "`,` or `]`")
                return
            }
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        default: try number()
        }
    }

    /// An array of strings; returns its byte range (brackets included).
    mutating func stringArray(_ key: String) throws(Failure) -> Range<Int> {
        let start = p
        guard p < bytes.count, bytes[p] == 0x5B else { throw fail("\"\(key)\" must be an array of strings") }
        p += 1
        ws()
        if p < bytes.count, bytes[p] == 0x5D {
            p += 1
            return start..<p
        }
        while true {
            ws()
            guard p < bytes.count, bytes[p] == 0x22 else { throw fail("\"\(key)\" must be an array of strings") }
            try string()
            ws()
            guard p < bytes.count else { throw fail("unexpected end of line in array") }
            if bytes[p] == 0x2C {
                p += 1
                continue
            }
            try expect(0x5D, "`,` or `]`")
            return start..<p
        }
    }

    /// Compares the key just scanned (`start..<end`, quotes excluded) with a field name.
    func keyIs(_ start: Int, _ end: Int, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard end - start == n, let base = bytes.baseAddress else { return false }
        return memcmp(base + start, name.utf8Start, n) == 0
    }

    mutating func scan() throws(Failure) -> Fields {
        guard bytes.baseAddress != nil else { throw fail("empty line") }
        ws()
        guard p < bytes.count, bytes[p] == 0x7B else { throw fail("an audit event is a JSON object; expected `{`") }
        p += 1
        var version = false
        var clientSeen = false
        var clientID: Range<Int>?
        var allowed: Bool?
        var required: Range<Int>?
        var granted: Range<Int>?
        ws()
        if p < bytes.count, bytes[p] == 0x7D {
            p += 1
        } else {
            while true {
                ws()
                let keyStart = p + 1
                let escaped = try string()
                let keyEnd = p - 1
                ws()
                try expect(0x3A, "`:`")
                ws()
                func dup(_ seen: Bool, _ name: String) throws(Failure) {
                    if seen { throw fail("duplicate key \"\(name)\"") }
                }
                if escaped {
                    try value(1)  // keys with escapes are never the fields we read
                } else if keyIs(keyStart, keyEnd, "v") {
                    try dup(version, "v")
                    let s = p
                    try value(1)
                    guard p - s == 1, bytes[s] == 0x31 else {
                        p = s
                        throw fail("unsupported record version (\"v\" must be 1)")
                    }
                    version = true
                } else if keyIs(keyStart, keyEnd, "client_id") {
                    try dup(clientSeen, "client_id")
                    clientSeen = true
                    let s = p
                    if p < bytes.count, bytes[p] == 0x6E {
                        try literal("null")
                    } else {
                        guard p < bytes.count, bytes[p] == 0x22 else {
                            throw fail("\"client_id\" must be a string or null")
                        }
                        try string()
                        clientID = s..<p
                    }
                } else if keyIs(keyStart, keyEnd, "allowed") {
                    try dup(allowed != nil, "allowed")
                    if p < bytes.count, bytes[p] == 0x74 {
                        try literal("true")
                        allowed = true
                    } else if p < bytes.count, bytes[p] == 0x66 {
                        try literal("false")
                        allowed = false
                    } else {
                        throw fail("\"allowed\" must be true or false")
                    }
                } else if keyIs(keyStart, keyEnd, "required") {
                    try dup(required != nil, "required")
                    required = try stringArray("required")
                } else if keyIs(keyStart, keyEnd, "granted") {
                    try dup(granted != nil, "granted")
                    granted = try stringArray("granted")
                } else {
                    try value(1)
                }
                ws()
                guard p < bytes.count else { throw fail("unexpected end of line in object") }
                if bytes[p] == 0x2C {
                    p += 1
                    continue
                }
                try expect(0x7D, "`,` or `}`")
                break
            }
        }
        ws()
        guard p == bytes.count else { throw fail("unexpected text after the JSON object") }
        var missing: [String] = []
        if !version { missing.append("\"v\"") }
        if !clientSeen { missing.append("\"client_id\"") }
        if allowed == nil { missing.append("\"allowed\"") }
        if required == nil { missing.append("\"required\"") }
        if granted == nil { missing.append("\"granted\"") }
        guard missing.isEmpty, let allowed, let required, let granted else {
            throw Failure(message: "not an audit event: missing " + missing.joined(separator: ", "))
        }
        return Fields(clientID: clientID, allowed: allowed, required: required, granted: granted)
    }
}

/// The suggestion for one client: the least-privilege set that would have allowed every observed allowed call,
/// and the granted scopes it never used.
public struct UsageSuggestion: Sendable, Hashable {
    /// The aggregated usage this is computed from.
    public var usage: ClientUsage
    /// Least privilege over the distinct `required` clauses (each a one-clause requirement part).
    public var leastPrivilege: LeastPrivilegeResult
    /// Granted scopes (as sent) whose closure contains none of the required scopes: unused access.
    public var unused: [String]
    /// Granted strings the policy does not define (they grant nothing).
    public var unknownGranted: [String]
    /// Required scopes the policy does not define (the log came from another policy version); left out.
    public var unknownRequired: [String]
    /// Privilege of what was granted (sum of risk weights over its closure).
    public var grantedCost: Int
}

extension LeastPrivilegeSolver {
    /// Suggests a least-privilege grant for one client's observed usage: every distinct `required` clause of an
    /// allowed call becomes a one-clause requirement part, so the answer is the cheapest set whose closure
    /// contains every observed clause. Granted strings are resolved with the policy's `strip_prefixes`.
    public func suggest(for usage: ClientUsage) -> UsageSuggestion {
        let table = policy.scopes
        var unknownRequired = Set<String>()
        var parts: [Part] = []
        var requiredSet = ScopeSet(capacity: table.count)
        for clause in usage.requiredClauses {
            var ids: [ScopeID] = []
            for name in clause {
                if let id = table.id(name) {
                    ids.append(id)
                    requiredSet.insert(id)
                } else {
                    unknownRequired.insert(name)
                }
            }
            if !ids.isEmpty { parts.append(Part(clauses: [ids.sorted()], label: clause.joined(separator: " + "))) }
        }
        let result = solve(parts: parts)
        let prefixes = (policy.model.tokens?.issuers ?? []).flatMap(\.stripPrefixes)
        var unused: [String] = []
        var unknownGranted: [String] = []
        var grantedIDs: [ScopeID] = []
        for string in usage.granted {
            let name = Grant.unprefixed(string, stripping: prefixes)
            guard let id = table.id(String(name)) else {
                unknownGranted.append(string)
                continue
            }
            grantedIDs.append(id)
            if !table.members(of: id).contains(where: { requiredSet.contains($0) }) { unused.append(string) }
        }
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return UsageSuggestion(
            usage: usage, leastPrivilege: result, unused: unused.sorted(by: byName),
            unknownGranted: unknownGranted.sorted(by: byName),
            unknownRequired: unknownRequired.sorted(by: byName),
            grantedCost: table.cost(of: setOf(grantedIDs)))
    }
}
