import Foundation

/// Aggregates audit events (docs/records.md, "Audit event": one JSON object per line) per client in bounded
/// memory: it
/// keeps only distinct `required` clauses and distinct `granted` lists per client, never the lines. Only the
/// fields `v`, `client_id`, `allowed`, `required` and `granted` are read (by a purpose-built scanner that still
/// checks the whole line is one well-formed JSON object); repeated field texts are recognized by their bytes,
/// so the steady state allocates nothing per line.
///
/// ```swift
/// var aggregator = UsageAggregator(clientFilter: "climate-bot")
/// _ = aggregator.consume(fileDescriptor: fd) { print($0) }
/// for usage in aggregator.usage { print(usage.clientID ?? "-", usage.requiredClauses) }
/// ```
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
    /// Interned `required` clauses and `granted` lists.
    var internedClauses = InternedLists()
    var internedGrants = InternedLists()
    /// Raw-bytes cache: field text → client slot. Cleared when large (it is only a cache).
    var rawClients = BytesCache<Int32>()

    /// Creates an aggregator, optionally restricted to one client id.
    public init(clientFilter: String? = nil) { self.clientFilter = clientFilter }

    /// The per-client usage, sorted by client id (events without a client id last).
    public var usage: [ClientUsage] {
        let byName: (String, String) -> Bool = { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return clients.filter { clientFilter == nil || $0.id == clientFilter }.map { c in
            let clauses = c.clauses.map { internedClauses.lists[Int($0)] }.filter { !$0.isEmpty }
                .sorted { $0.lexicographicallyPrecedes($1, by: byName) }
            var granted = Set<String>()
            for g in c.grants { granted.formUnion(internedGrants.lists[Int(g)]) }
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
        if bytes.count > maxLineBytes { return tooLong(number: number) }
        lines += 1
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
        guard
            let grantID = internedGrants.id(
                of: UnsafeBufferPointer(rebasing: bytes[fields.granted]), sorted: { $0.sorted() })
        else {
            malformed += 1
            return UsageLineError(line: number, message: "\"granted\" is not an array of valid strings")
        }
        var clauseID: Int32 = -1
        if fields.allowed {
            let byBytes: ([String]) -> [String] = { $0.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }
            guard
                let id = internedClauses.id(of: UnsafeBufferPointer(rebasing: bytes[fields.required]), sorted: byBytes)
            else {
                malformed += 1
                return UsageLineError(line: number, message: "\"required\" is not an array of valid strings")
            }
            clauseID = id
        }
        clients[clientSlot].events += 1
        clients[clientSlot].grants.insert(grantID)
        if fields.allowed {
            clients[clientSlot].allowed += 1
            clients[clientSlot].clauses.insert(clauseID)
        }
        return nil
    }

    /// Counts an over-long line as malformed and describes it.
    mutating func tooLong(number: Int) -> UsageLineError {
        lines += 1
        malformed += 1
        return UsageLineError(line: number, message: "line is longer than \(maxLineBytes) bytes")
    }

    mutating func slot(for name: String?) -> Int {
        if let i = clientIndex[name] { return i }
        clients.append(Client(id: name))
        clientIndex[name] = clients.count - 1
        return clients.count - 1
    }

    /// Distinct lists of strings, each with a dense id, and a raw-bytes cache from a field's text to its id
    /// (cleared when large: it is only a cache).
    struct InternedLists {
        var lists: [[String]] = []
        var ids: [[String]: Int32] = [:]
        var raw = BytesCache<Int32>()

        /// The id of the JSON array of strings `slice`, its strings deduplicated and put in order by `sorted`;
        /// nil when it is not an array of strings.
        mutating func id(of slice: UnsafeBufferPointer<UInt8>, sorted: ([String]) -> [String]) -> Int32? {
            if let cached = raw.lookup(slice) { return cached }
            guard let list = UsageAggregator.strings(slice) else { return nil }
            let key = sorted(Array(Set(list)))
            let id: Int32
            if let known = ids[key] {
                id = known
            } else {
                id = Int32(lists.count)
                lists.append(key)
                ids[key] = id
            }
            raw.insert(slice, id)
            return id
        }
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
}
