import Foundation

/// A loaded YAML document: the composed nodes after the loader's checks (limits applied, `${VAR}` substituted),
/// shared by every ``YAMLNode`` that views it. The nodes stay in ``ComposedYAML``'s flat arrays, so a large policy
/// costs one 20-byte record and one string per node rather than a tree of nodes, each holding a path.
package final class YAMLDocument: Sendable {
    let path: String
    let composed: ComposedYAML

    package init(path: String, composed: ComposedYAML) {
        self.path = path
        self.composed = composed
    }

    /// The root node, or nil for an empty document.
    package var root: YAMLNode? { composed.root.map { YAMLNode(document: self, index: $0) } }
}

/// A located YAML node: a view into its ``YAMLDocument``. Produced by ``PolicyLoader`` (with limits enforced and
/// variables substituted when the document was loaded) and read by the decode passes.
package struct YAMLNode: Sendable {
    enum Kind: Sendable {
        /// A scalar: its text, whether it was quoted or a block scalar (so never a number/bool/null),
        /// and whether it is a plain null (`~`, `null`, empty).
        case scalar(String, plain: Bool)
        case mapping(Pairs)
        case sequence(Items)
    }

    /// The key/value pairs of a mapping, in document order.
    struct Pairs: RandomAccessCollection, Sendable {
        let document: YAMLDocument
        /// Start of the pairs in the document's `children` (key, value, key, value, …).
        let first: Int
        let endIndex: Int
        var startIndex: Int { 0 }

        subscript(position: Int) -> (key: YAMLNode, value: YAMLNode) {
            let children = document.composed.children
            return (
                YAMLNode(document: document, index: children[first + 2 * position]),
                YAMLNode(document: document, index: children[first + 2 * position + 1])
            )
        }
    }

    /// The items of a sequence, in document order.
    struct Items: RandomAccessCollection, Sendable {
        let document: YAMLDocument
        let first: Int
        let endIndex: Int
        var startIndex: Int { 0 }

        subscript(position: Int) -> YAMLNode {
            YAMLNode(document: document, index: document.composed.children[first + position])
        }
    }

    let document: YAMLDocument
    let index: Int32

    private var node: ComposedYAML.Node { document.composed.nodes[Int(index)] }

    var kind: Kind {
        let n = node
        switch n.kind {
        case .scalar: return .scalar(document.composed.text(of: n), plain: n.plain)
        case .mapping: return .mapping(pairs(of: n))
        case .sequence: return .sequence(items(of: n))
        }
    }

    private func pairs(of n: ComposedYAML.Node) -> Pairs {
        Pairs(document: document, first: Int(n.first), endIndex: Int(n.count) / 2)
    }

    private func items(of n: ComposedYAML.Node) -> Items {
        Items(document: document, first: Int(n.first), endIndex: Int(n.count))
    }

    var location: SourceLocation {
        let n = node
        return SourceLocation(file: document.path, line: Int(n.line), column: Int(n.column))
    }

    var typeName: String {
        switch kind {
        case .scalar(let s, let plain):
            if plain {
                if Self.isNull(s) { return "null" }
                if Self.bool(s) != nil { return "boolean" }
                if Self.number(s) != nil { return "number" }
            }
            return "string"
        case .mapping: return "mapping"
        case .sequence: return "list"
        }
    }

    // The accessors below read the node record directly rather than through `kind`, which builds a
    // collection view (retaining the document) even to answer "is this a scalar?"; decoding asks that of
    // every node.

    /// The text of a scalar, or nil.
    var scalarText: String? {
        let n = node
        return n.kind == .scalar ? document.composed.text(of: n) : nil
    }

    /// A string value: any non-null scalar (numbers and booleans written plainly count as their text).
    var string: String? {
        let n = node
        guard n.kind == .scalar else { return nil }
        let s = document.composed.text(of: n)
        return n.plain && Self.isNull(s) ? nil : s
    }

    var isNull: Bool {
        let n = node
        return n.kind == .scalar && n.plain && Self.isNull(document.composed.text(of: n))
    }

    var boolValue: Bool? {
        if case .scalar(let s, let plain) = kind, plain { return Self.bool(s) }
        return nil
    }

    var numberValue: Decimal? {
        if case .scalar(let s, let plain) = kind, plain { return Self.number(s) }
        return nil
    }

    var mapping: Pairs? {
        let n = node
        return n.kind == .mapping ? pairs(of: n) : nil
    }

    var sequence: Items? {
        let n = node
        return n.kind == .sequence ? items(of: n) : nil
    }

    var isMapping: Bool { node.kind == .mapping }
    var isSequence: Bool { node.kind == .sequence }

    static func isNull(_ s: String) -> Bool { s.isEmpty || s == "~" || s == "null" || s == "Null" || s == "NULL" }

    static func bool(_ s: String) -> Bool? {
        switch s {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// YAML 1.2 core-schema integers and floats (decimal notation only), as exact decimals.
    static func number(_ s: String) -> Decimal? {
        guard let first = s.utf8.first,
            first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || first == UInt8(ascii: ".") || (first >= 0x30 && first <= 0x39)
        else { return nil }
        return DecimalText.parse(s)
    }

    /// Converts this node to a JSON-like value (for condition literals).
    var jsonValue: JSONValue {
        switch kind {
        case .scalar(let s, let plain):
            if plain {
                if Self.isNull(s) { return .null }
                if let b = Self.bool(s) { return .bool(b) }
                if let n = Self.number(s) { return .number(n) }
            }
            return .string(s)
        case .sequence(let items): return .array(items.map(\.jsonValue))
        case .mapping(let pairs):
            var object: [String: JSONValue] = [:]
            for (k, v) in pairs { object[k.scalarText ?? ""] = v.jsonValue }
            return .object(object)
        }
    }
}

/// Strict decimal-number text parsing shared by YAML scalars and JSON arguments.
enum DecimalText {
    /// Foundation's parse of text already checked to be `-?digits(.digits)?([eE][+-]?digits)?`. No locale is
    /// passed: with none, the decimal separator is `.` (the same answer as `en_US_POSIX`, which
    /// `DecimalTextTests` checks), and creating a `Locale` would page in about 3 MB of ICU data that nothing
    /// else needs.
    static func decimal(_ text: String) -> Decimal? { Decimal(string: text) }

    /// Parses `-?digits(.digits)?([eE][+-]?digits)?` (a leading `+` allowed) into an exact `Decimal`.
    static func parse(_ s: String) -> Decimal? {
        var sawDigit = false
        var index = s.utf8.startIndex
        let utf8 = s.utf8
        if index < utf8.endIndex, utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") {
            index = utf8.index(after: index)
        }
        var sawDot = false
        var sawExp = false
        while index < utf8.endIndex {
            let c = utf8[index]
            if c >= 0x30 && c <= 0x39 {
                sawDigit = true
            } else if c == UInt8(ascii: "."), !sawDot, !sawExp {
                sawDot = true
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E"), sawDigit, !sawExp {
                sawExp = true
                let next = utf8.index(after: index)
                if next < utf8.endIndex, utf8[next] == UInt8(ascii: "-") || utf8[next] == UInt8(ascii: "+") {
                    index = next
                }
                sawDigit = false
            } else {
                return nil
            }
            index = utf8.index(after: index)
        }
        guard sawDigit, s.utf8.count <= 64 else { return nil }
        let text = s.hasPrefix("+") ? String(s.dropFirst()) : s
        return decimal(text)
    }
}
