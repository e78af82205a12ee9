/// Rules addressable by exact name or by the most specific matching glob.

struct RuleTable: Sendable {
    /// Glob rules, most specific first.
    let globs: [(Glob, Int)]
    let rules: [CompiledRule]
    /// Exact names (the lookup path), each with its rule index as its value.
    let exactIndex: NameIndex
    /// Candidate globs by literal prefix (see ``GlobIndex``).
    let index: GlobIndex

    /// `exact` lists exact names with their rule, in declaration order. A name listed twice (a model the
    /// compiler would reject) resolves to its last rule: names are indexed last first, and the index keeps the
    /// first of equal keys.
    init(exact: [(name: String, rule: Int)], globs: [(Glob, Int)], rules: [CompiledRule]) {
        self.globs = globs
        self.rules = rules
        let n = exact.count
        self.exactIndex = NameIndex(count: n, values: exact.reversed().map(\.rule)) { id, add in
            var name = exact[n - 1 - id].name
            name.withUTF8 { add($0) }
        }
        self.index = GlobIndex(globs.map(\.0))
    }

    func lookup(_ name: String) -> Int? {
        // Native strings are read in place: `withUTF8` needs a `var` copy, which retains and releases the
        // string's storage on every decision.
        if let found = name.utf8.withContiguousStorageIfAvailable({ lookup(utf8: $0) }) { return found }
        var name = name
        return name.withUTF8 { lookup(utf8: $0) }
    }

    @inline(__always)
    func lookup(utf8 buffer: UnsafeBufferPointer<UInt8>) -> Int? {
        if let rule = exactIndex.lookup(utf8: buffer) { return Int(rule) }
        if globs.isEmpty { return nil }
        return index.firstMatch(buffer, in: globs).map { globs[$0].1 }
    }
}
