/// Glob patterns over names where `*` (any run of characters, possibly empty) is the only metacharacter.
///
/// ```swift
/// let glob = Glob("batch_*_run")
/// glob.matches("batch_42_run")   // true
/// glob.matches("batch_run")      // false: `*` needs the two underscores around it
/// ```
public struct Glob: Sendable, Hashable {
    /// The pattern split at `*`: literal pieces, `pieces.count == stars + 1`.
    let pieces: [[UInt8]]
    public let pattern: String

    public init(_ pattern: String) {
        self.pattern = pattern
        self.pieces = pattern.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
    }

    /// Whether `pattern` is a glob matching every name: one or more `*` and nothing else.
    public static func isCatchAll(_ pattern: String) -> Bool {
        !pattern.isEmpty && pattern.utf8.allSatisfy { $0 == UInt8(ascii: "*") }
    }

    /// Number of `*`.
    public var stars: Int { pieces.count - 1 }
    /// Length of the literal text before the first `*`, in bytes.
    public var literalPrefix: Int { pieces[0].count }
    /// Total literal characters, in bytes.
    public var literalCount: Int { pieces.reduce(0) { $0 + $1.count } }

    /// Specificity key: longer literal prefix, then more literal characters, then fewer stars wins.
    public var specificity: Specificity { Specificity(prefix: literalPrefix, literals: literalCount, stars: stars) }

    public struct Specificity: Sendable, Hashable, Comparable {
        public let prefix: Int, literals: Int, stars: Int
        /// `a < b` means `a` is less specific than `b`.
        public static func < (a: Specificity, b: Specificity) -> Bool {
            if a.prefix != b.prefix { return a.prefix < b.prefix }
            if a.literals != b.literals { return a.literals < b.literals }
            return a.stars > b.stars
        }
    }

    /// Whether `name` matches. Greedy-with-backtrack over literal pieces: linear in practice, no allocation.

    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches(utf8: $0) }
    }

    public func matches(utf8 s: UnsafeBufferPointer<UInt8>) -> Bool {
        let first = pieces[0]
        if pieces.count == 1 { return s.count == first.count && Self.equal(s, 0, first) }
        guard s.count >= first.count, Self.equal(s, 0, first) else { return false }
        let last = pieces[pieces.count - 1]
        guard s.count - first.count >= last.count, Self.equal(s, s.count - last.count, last) else { return false }
        var position = first.count
        let end = s.count - last.count
        var i = 1
        while i < pieces.count - 1 {
            let piece = pieces[i]
            guard let found = Self.find(piece, in: s, from: position, to: end) else { return false }
            position = found + piece.count
            i += 1
        }
        return position <= end
    }

    static func equal(_ s: UnsafeBufferPointer<UInt8>, _ at: Int, _ piece: [UInt8]) -> Bool {
        var k = 0
        while k < piece.count {
            if s[at + k] != piece[k] { return false }
            k += 1
        }
        return true
    }

    static func find(_ piece: [UInt8], in s: UnsafeBufferPointer<UInt8>, from: Int, to end: Int) -> Int? {
        if piece.isEmpty { return from }
        var start = from
        while start + piece.count <= end {
            if equal(s, start, piece) { return start }
            start += 1
        }
        return nil
    }

    /// Whether some name matches both globs (decided exactly, by a search over pattern positions).
    public func intersects(_ other: Glob) -> Bool {
        let a = Array(pattern.utf8)
        let b = Array(other.pattern.utf8)
        let star = UInt8(ascii: "*")
        var seen = Set<Int>()
        var stack = [(0, 0)]
        while let (i, j) = stack.popLast() {
            if i == a.count && j == b.count { return true }
            guard seen.insert(i * (b.count + 1) + j).inserted else { continue }
            let ai = i < a.count ? a[i] : nil
            let bj = j < b.count ? b[j] : nil
            if ai == star {
                stack.append((i + 1, j))  // star matches empty
                if let bj, bj != star { stack.append((i, j + 1)) }  // star eats a literal of b
                if bj == star { stack.append((i, j + 1)) }
            }
            if bj == star {
                stack.append((i, j + 1))
                if let ai, ai != star { stack.append((i + 1, j)) }
            }
            if let ai, let bj, ai != star, bj != star, ai == bj { stack.append((i + 1, j + 1)) }
        }
        return false
    }

    /// Whether every name matching `other` also matches `self` (`self ⊇ other`): `self` must match `other`'s
    /// pattern with each of `other`'s stars read as a fresh symbol only a star can absorb.
    public func contains(_ other: Glob) -> Bool {
        var marked: [UInt8] = []
        for (index, piece) in other.pieces.enumerated() {
            if index > 0 { marked.append(0) }  // NUL stands for `*`: no pattern literal contains it
            marked.append(contentsOf: piece)
        }
        return marked.withUnsafeBufferPointer { matches(utf8: $0) }
    }
}
