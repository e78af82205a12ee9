import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line's grant, resolved straight from the bytes of its `scopes` value into buffers reused from line to line:
/// no `String` per granted scope and no ``Grant``. Each name is looked up by its bytes in the policy's scope index;
/// an unrecognized one is rendered once as its `ignored` entry (cached by its bytes, since unknown scopes repeat
/// across a batch).
///
/// ```swift
/// var grant = BatchGrant(policy: policy)
/// if grant.resolve(line, scopes: fields.scopes, isArray: fields.scopesIsArray, items: fields.scopeItems) {
///     let decision = policy.decide(call, closure: grant.closure)
/// }
/// ```
struct BatchGrant {
    let policy: CompiledPolicy
    /// The policy's scope table, held here so a lookup reads it in place (no copy or retain per name).
    let scopes: ScopeTable
    /// Everything the grant allows: the union of the recognized scopes' closures.
    var closure: ScopeSet
    /// The recognized scopes in the order sent, repeats kept (the challenge lists each once).
    var recognized: [ScopeID] = []
    /// The record's `ignored` entries, comma-separated, without the brackets.
    var ignoredJSON: [UInt8] = []
    /// Rendered `ignored` entries by the bytes of the unrecognized string.
    var ignoredEntries = BytesCache<[UInt8]>(limit: 4096)

    init(policy: CompiledPolicy) {
        self.policy = policy
        scopes = policy.scopes
        closure = ScopeSet(capacity: policy.scopes.count)
        recognized.reserveCapacity(16)
        ignoredJSON.reserveCapacity(256)
    }

    /// Resolves the `scopes` value ``RequestLineReader`` found in `line` (``RequestFields/scopes``, with its
    /// `scopesIsArray` and `scopeItems`). False when the line must take the ``Grant`` path instead, which gives
    /// the same answer or reports the line: a space-separated string with non-ASCII bytes (`grant(scopeString:)`
    /// splits it by `Character`), or an unrecognized string that is not valid UTF-8.
    mutating func resolve(
        _ line: UnsafeBufferPointer<UInt8>, scopes: Range<Int>, isArray: Bool, items: [Range<Int>]
    ) -> Bool {
        closure.removeAll()
        recognized.removeAll(keepingCapacity: true)
        ignoredJSON.removeAll(keepingCapacity: true)
        if isArray {
            for range in items {
                guard add(UnsafeBufferPointer(rebasing: line[range])) else { return false }
            }
            return true
        }
        // Between the quotes: a string without escapes or control characters (the reader took it), so in ASCII
        // each `Character` is one byte and the names are the runs between spaces.
        let text = UnsafeBufferPointer(rebasing: line[(scopes.lowerBound + 1)..<(scopes.upperBound - 1)])
        guard UTF8Text.isASCII(text) else { return false }
        guard let base = text.baseAddress else { return true }
        var start = 0
        while start < text.count {
            let end =
                memchr(base + start, 0x20, text.count - start).map {
                    base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
                } ?? text.count
            if end > start, !add(UnsafeBufferPointer(rebasing: text[start..<end])) { return false }
            start = end + 1
        }
        return true
    }

    /// Adds one granted name: its closure when the policy defines it, else its `ignored` entry.
    private mutating func add(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        if let id = scopes.id(utf8: name) {
            // Adding a closure twice (a scope granted twice) changes nothing.
            scopes.addClosure(of: id, to: &closure)
            recognized.append(id)
            return true
        }
        if !ignoredJSON.isEmpty { ignoredJSON.append(UInt8(ascii: ",")) }
        if let entry = ignoredEntries.lookup(name) {
            ignoredJSON.append(contentsOf: entry)
            return true
        }
        guard let text = UTF8Text.string(name) else { return false }
        var entry: [UInt8] = []
        policy.ignoredEntry(text).write(to: &entry)
        ignoredEntries.insert(name, entry)
        ignoredJSON.append(contentsOf: entry)
        return true
    }
}
