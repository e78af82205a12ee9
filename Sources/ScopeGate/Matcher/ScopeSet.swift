/// Dense integer id of a scope within one compiled policy.
public typealias ScopeID = UInt32

/// A fixed-width bitset over a policy's scope ids.
///
/// ```swift
/// var set = ScopeSet(capacity: policy.scopes.count)
/// if let id = policy.scopes.id("read:files") { set.insert(id) }
/// set.contains(0)
/// ```
public struct ScopeSet: Sendable, Hashable {
    var words: [UInt64]

    /// An empty set able to hold ids `0..<capacity`.
    public init(capacity: Int) {
        // Copied from a collection rather than built with `Array(repeating:count:)`: that one allocates through
        // an unspecialized standard-library entry point that looks the storage's generic metadata up at run time
        // on every call (≈ 8% of resolving a grant); the collection initializer is inlined and specialized.
        words = Array(repeatElement(UInt64(0), count: (max(capacity, 0) + 63) / 64))
    }

    /// Whether `id` is in the set. Ids beyond the capacity are never contained.

    public func contains(_ id: ScopeID) -> Bool {
        let w = Int(id >> 6)
        return w < words.count && words[w] & (1 << UInt64(id & 63)) != 0
    }

    /// Inserts `id` (ignored beyond the capacity).

    public mutating func insert(_ id: ScopeID) {
        let w = Int(id >> 6)
        guard w < words.count else { return }
        words[w] |= 1 << UInt64(id & 63)
    }

    /// Removes every member, keeping the storage (a set reused from one grant to the next).
    package mutating func removeAll() {
        words.withUnsafeMutableBufferPointer { words in
            for i in words.indices { words[i] = 0 }
        }
    }

    /// Adds every member of `other`.

    public mutating func formUnion(_ other: ScopeSet) {
        let n = min(words.count, other.words.count)
        // Through buffer pointers: indexing `words` in the loop re-checks uniqueness and bounds on every word,
        // which made resolving a 10-scope grant over 5,000 scopes cost microseconds.
        words.withUnsafeMutableBufferPointer { target in
            other.words.withUnsafeBufferPointer { source in
                var i = 0
                while i < n {
                    target[i] |= source[i]
                    i += 1
                }
            }
        }
    }

    /// Whether every member of `self` is in `other`.

    public func isSubset(of other: ScopeSet) -> Bool {
        for i in words.indices where words[i] & ~(i < other.words.count ? other.words[i] : 0) != 0 { return false }
        return true
    }

    /// Whether the sets share a member.
    public func intersects(_ other: ScopeSet) -> Bool {
        for i in 0..<min(words.count, other.words.count) where words[i] & other.words[i] != 0 { return true }
        return false
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    /// Number of members.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Members in increasing order.
    public var ids: [ScopeID] {
        var out: [ScopeID] = []
        for (i, word) in words.enumerated() {
            var w = word
            while w != 0 {
                let bit = w.trailingZeroBitCount
                out.append(ScopeID(i * 64 + bit))
                w &= w - 1
            }
        }
        return out
    }
}
