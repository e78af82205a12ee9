/// An index over globs sorted most specific first, so a lookup tests only the globs whose literal prefix the
/// name starts with, instead of every glob of the policy.
///
/// Each glob is filed under the first `k = min(prefix, 8)` bytes of its literal prefix, in the table for that `k`;
/// globs starting with `*` are always candidates. A lookup probes the name's first `k` bytes for each `k` in use
/// and tests the candidates of each bucket in rank order, stopping at the first match or at a rank no better than
/// the best match so far — so the answer is exactly the first match of a linear scan over the sorted globs.
struct GlobIndex: Sendable {
    struct Table: Sendable {
        let k: Int
        let keys: NameIndex
        /// Ranks (positions in the sorted glob list) of key `i`, ascending.
        let ranks: [[Int32]]
    }
    let tables: [Table]
    /// Ranks of globs without a literal prefix.
    let unanchored: [Int32]

    init(_ globs: [Glob]) {
        var byLength = [[[UInt8]: [Int32]]](repeating: [:], count: 9)
        var unanchored: [Int32] = []
        for (rank, glob) in globs.enumerated() {
            let k = min(glob.pieces[0].count, 8)
            if k == 0 {
                unanchored.append(Int32(rank))
                continue
            }
            byLength[k][Array(glob.pieces[0][0..<k]), default: []].append(Int32(rank))
        }
        var tables: [Table] = []
        for k in 1...8 where !byLength[k].isEmpty {
            let keys = byLength[k].keys.sorted { $0.lexicographicallyPrecedes($1) }
            tables.append(
                Table(
                    k: k, keys: NameIndex(keys: keys),
                    ranks: keys.map { byLength[k][$0] ?? [] }))
        }
        self.tables = tables
        self.unanchored = unanchored
    }

    /// Rank of the most specific glob matching `name`, if any.
    func firstMatch(_ name: UnsafeBufferPointer<UInt8>, in globs: [(Glob, Int)]) -> Int? {
        var best = Int32.max
        func scan(_ ranks: [Int32]) {
            for rank in ranks {
                if rank >= best { return }
                if globs[Int(rank)].0.matches(utf8: name) {
                    best = rank
                    return
                }
            }
        }
        for table in tables where table.k <= name.count {
            if let key = table.keys.lookup(utf8: UnsafeBufferPointer(rebasing: name[0..<table.k])) {
                scan(table.ranks[Int(key)])
            }
        }
        if !unanchored.isEmpty { scan(unanchored) }
        return best == Int32.max ? nil : Int(best)
    }
}
