import Foundation

/// The duplicate-key check of ``EventComposer``: a mapping whose keys include two equal nodes is an error.
extension EventComposer {
    /// A mapping in which two keys are equal ``DuplicateKeyNode``s (same text and resolved tag, or equal
    /// collections) is an error. Equal keys need equal text, so the common case is settled by comparing the texts
    /// of the scalar keys; only when two texts are equal, or two keys are collections, are key nodes built and
    /// compared.
    /// Returns whether two scalar keys have equal text (and the mapping is still valid: their tags differ).
    mutating func checkDuplicates(_ items: Range<Int>) throws(YAMLSyntaxError) -> Bool {
        let pairs = items.count / 2
        guard pairs >= 2 else { return false }
        var suspect = false
        var collectionKeys = 0
        let start = items.lowerBound
        let all = document.children
        if pairs <= 8 {
            outer: for i in 0..<pairs {
                let a = document.nodes[Int(all[start + 2 * i])]
                guard a.kind == .scalar else {
                    collectionKeys += 1
                    continue
                }
                for j in 0..<i {
                    let b = document.nodes[Int(all[start + 2 * j])]
                    if b.kind == .scalar, document.text(of: a) == document.text(of: b) {
                        suspect = true
                        break outer
                    }
                }
            }
        } else if let found = asciiKeysShareText(all[start..<(start + 2 * pairs)]) {
            (suspect, collectionKeys) = found
        } else {
            seenKeys.removeAll(keepingCapacity: true)
            for i in 0..<pairs {
                let a = document.nodes[Int(all[start + 2 * i])]
                guard a.kind == .scalar else {
                    collectionKeys += 1
                    continue
                }
                if !seenKeys.insert(document.text(of: a)).inserted {
                    suspect = true
                    break
                }
            }
        }
        guard suspect || collectionKeys >= 2 else { return suspect }
        let keys = (0..<pairs).map { all[start + 2 * $0] }
        // A key that expands past any sane size (aliases of aliases) is not compared: hashing it would take
        // as long as expanding it. The tree builder's node limit rejects such a document anyway.
        guard keys.allSatisfy({ nodeSizes[Int($0)] <= 1_000_000 }) else { return suspect }
        var cache: [Int32: DuplicateKeyNode] = [:]
        let keyNodes = keys.map { keyNode($0, &cache) }
        // Group on indices so the first occurrence's location can be found; the smallest duplicated key (in
        // ``DuplicateKeyNode``'s order) is reported, as Yams reports it.
        var groups: [DuplicateKeyNode: [Int]] = [:]
        var order: [DuplicateKeyNode] = []
        for (i, key) in keyNodes.enumerated() {
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        guard let firstKey = order.filter({ (groups[$0]?.count ?? 0) > 1 }).sorted().first,
            let firstIndex = groups[firstKey]?.first
        else { return suspect }
        let node = document.nodes[Int(keys[firstIndex])]
        throw .duplicateKey(firstKey.string ?? "<uncovertable>", line: Int(node.line), column: Int(node.column))
    }

    /// For a large mapping whose scalar keys are all ASCII: whether two of them have equal text, and how many keys
    /// are collections (counted up to the first equal pair, as the `Set` path does). Hashes the keys' bytes into
    /// a reused open-addressing table instead of a `Set<String>` (SipHash per key). ASCII only: for ASCII text
    /// `String` equality is byte equality, so equal hashes and bytes find exactly the pairs `==` would; any
    /// non-ASCII key returns nil and the caller takes the `Set` path.
    mutating func asciiKeysShareText(_ items: ArraySlice<Int32>) -> (Bool, Int)? {
        let pairs = items.count / 2
        var capacity = 16
        while capacity < pairs * 2 { capacity <<= 1 }
        if keyTable.count < capacity {
            keyTable = Array(repeating: 0, count: capacity)
        } else {
            for i in 0..<capacity { keyTable[i] = 0 }
        }
        let mask = capacity - 1
        var collectionKeys = 0
        for i in 0..<pairs {
            let keyIndex = items[items.startIndex + 2 * i]
            let a = document.nodes[Int(keyIndex)]
            guard a.kind == .scalar else {
                collectionKeys += 1
                continue
            }
            var text = document.text(of: a)
            let hash: UInt64? = text.withUTF8 { bytes in
                for b in bytes where b >= 0x80 { return nil }
                return NameIndex.hash(bytes)
            }
            guard let hash else { return nil }
            var slot = Int(truncatingIfNeeded: hash) & mask
            while keyTable[slot] != 0 {
                if document.text(of: document.nodes[Int(keyTable[slot] - 1)]) == text { return (true, collectionKeys) }
                slot = (slot + 1) & mask
            }
            keyTable[slot] = keyIndex + 1
        }
        return (false, collectionKeys)
    }

    /// The key node for `index`, with its tag resolved.
    func keyNode(_ index: Int32, _ cache: inout [Int32: DuplicateKeyNode]) -> DuplicateKeyNode {
        if let node = cache[index] { return node }
        let n = document.nodes[Int(index)]
        let tagIndex = nodeTags[Int(index)]
        let tag: String? = tagIndex < 0 ? nil : tagNames[Int(tagIndex)]
        let result: DuplicateKeyNode
        switch n.kind {
        case .scalar:
            let text = document.text(of: n)
            result = .scalar(text, tag: DuplicateKeyNode.resolve(tag, scalar: text))
        case .sequence:
            result = .sequence(
                (0..<Int(n.count)).map { keyNode(document.child(n, $0), &cache) },
                tag: DuplicateKeyNode.resolve(tag, default: DuplicateKeyNode.seqTag))
        case .mapping:
            result = .mapping(
                (0..<Int(n.count)).map { keyNode(document.child(n, $0), &cache) },
                tag: DuplicateKeyNode.resolve(tag, default: DuplicateKeyNode.mapTag))
        }
        cache[index] = result
        return result
    }

}

/// A mapping key as the duplicate-key check compares it. Two keys are equal when they are the same kind of node
/// with the same resolved tag and equal content (YAML 1.1 node equality, as Yams' `Node` implements it):
/// `1` (an int) and `"1"` (a str) differ, `a` and `"a"` (both str) are equal. The order (``<``) picks the key an
/// error reports: scalars by text, sequences by their items, mappings by their keys; nodes of different kinds
/// are unordered.
///
/// ```swift
/// let a = DuplicateKeyNode.scalar("1", tag: DuplicateKeyNode.resolve(nil, scalar: "1"))   // an int
/// let b = DuplicateKeyNode.scalar("1", tag: DuplicateKeyNode.strTag)                      // quoted
/// assert(a != b)
/// ```
indirect enum DuplicateKeyNode: Hashable, Comparable {
    case scalar(String, tag: String)
    case sequence([DuplicateKeyNode], tag: String)
    /// Keys and values, alternating.
    case mapping([DuplicateKeyNode], tag: String)

    static let strTag = "tag:yaml.org,2002:str"
    static let seqTag = "tag:yaml.org,2002:seq"
    static let mapTag = "tag:yaml.org,2002:map"

    /// The text of a scalar key.
    var string: String? {
        if case .scalar(let text, _) = self { return text }
        return nil
    }

    /// A collection's tag: its explicit tag, or `fallback` when it has none or the non-specific `!`.
    static func resolve(_ tag: String?, default fallback: String) -> String {
        guard let tag, tag != "!" else { return fallback }
        return tag
    }

    /// A scalar's tag: its explicit tag (`!` is str), or for a plain scalar without one, the first of YAML 1.1's
    /// implicit types whose pattern matches the text (str when none does).
    static func resolve(_ tag: String?, scalar text: String) -> String {
        if let tag { return tag == "!" ? strTag : tag }
        let range = NSRange(location: 0, length: text.utf16.count)
        for (name, pattern) in implicitTypes where pattern?.firstMatch(in: text, options: [], range: range) != nil {
            return name
        }
        return strTag
    }

    /// YAML 1.1's implicit scalar types, in the order they are tried (the patterns of Yams' default resolver).
    /// A pattern is a constant that compiles; were one not to, it would match nothing.
    static let implicitTypes: [(String, NSRegularExpression?)] = implicitPatterns.map {
        ($0.0, try? NSRegularExpression(pattern: $0.1))
    }

    static let implicitPatterns: [(String, String)] = [
        ("tag:yaml.org,2002:bool", "^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
        (
            "tag:yaml.org,2002:int",
            "^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
                + "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"
        ),
        (
            "tag:yaml.org,2002:float",
            "^(?:[-+]?(?:[0-9][0-9_]*)(?:\\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\\.[0-9_]+(?:[eE][-+][0-9]+)?"
                + "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$"
        ),
        ("tag:yaml.org,2002:merge", "^(?:<<)$"),
        ("tag:yaml.org,2002:null", "^(?:~|null|Null|NULL|)$"),
        (
            "tag:yaml.org,2002:timestamp",
            "^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
                + "(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
                + "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"
        ),
        ("tag:yaml.org,2002:value", "^(?:=)$"),
    ]

    static func < (lhs: DuplicateKeyNode, rhs: DuplicateKeyNode) -> Bool {
        switch (lhs, rhs) {
        case (.scalar(let a, _), .scalar(let b, _)): return a < b
        case (.sequence(let a, _), .sequence(let b, _)): return precedes(a[...], b[...], stride: 1)
        case (.mapping(let a, _), .mapping(let b, _)): return precedes(a[...], b[...], stride: 2)
        default: return false
        }
    }

    /// Lexicographic order over every `stride`-th item (a mapping compares its keys only), shorter first.
    static func precedes(_ a: ArraySlice<DuplicateKeyNode>, _ b: ArraySlice<DuplicateKeyNode>, stride: Int) -> Bool {
        var i = 0
        while i < a.count, i < b.count {
            let x = a[a.startIndex + i]
            let y = b[b.startIndex + i]
            if x < y { return true }
            if y < x { return false }
            i += stride
        }
        return a.count < b.count
    }
}
