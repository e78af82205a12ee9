/// Converts a ``ComposedYAML`` document into located ``YAMLNode``s, expanding aliases, checking the node, depth
/// and scalar limits, and substituting `${VAR}`.
///
/// Nodes are visited depth first, key before value, and an alias is expanded where it is used, so a node count
/// includes every expansion (a "billion laughs" document stops at `maxNodes`). The first limit crossed aborts
/// the walk with one diagnostic; the file then has no tree.
struct TreeBuilder {
    let path: String
    let options: LoadOptions
    let document: ComposedYAML
    var diagnostics = Diagnostics()
    var nodes = 0
    var aborted = false

    init(path: String, options: LoadOptions, document: ComposedYAML) {
        self.path = path
        self.options = options
        self.document = document
    }

    /// The tree of the document's root, or nil for an empty document.
    mutating func build() -> YAMLNode? {
        guard let root = document.root else { return nil }
        return convert(root, depth: 1)
    }

    mutating func abort(_ diagnostic: Diagnostic) {
        if !aborted { diagnostics.append(diagnostic) }
        aborted = true
    }

    mutating func convert(_ index: Int32, depth: Int) -> YAMLNode {
        let node = document.node(index)
        let loc = SourceLocation(file: path, line: node.line, column: node.column)
        nodes += 1
        if aborted { return YAMLNode(kind: .scalar("", plain: true), location: loc) }
        if nodes > options.maxNodes {
            abort(Diagnostic(.tooManyNodes,
                "document expands to more than \(options.maxNodes) nodes",
                at: loc, help: "aliases (`*name`) that reference large anchors multiply the document; remove them"))
            return YAMLNode(kind: .scalar("", plain: true), location: loc)
        }
        if depth > options.maxDepth {
            abort(Diagnostic(.nestingTooDeep, "nesting is deeper than \(options.maxDepth) levels", at: loc,
                help: "flatten the structure; policies need only a few levels"))
            return YAMLNode(kind: .scalar("", plain: true), location: loc)
        }
        switch node.kind {
        case .scalar:
            var text = document.text(of: node)
            if text.utf8.count > options.maxScalarBytes {
                diagnostics.append(Diagnostic(.scalarTooLong,
                    "scalar is \(text.utf8.count) bytes, over the limit of \(options.maxScalarBytes)", at: loc,
                    help: "policy values are names and short descriptions; shorten it"))
                // A quoted empty placeholder: reported once, without a knock-on "wrong type: null".
                return YAMLNode(kind: .scalar("", plain: false), location: loc)
            }
            if Self.needsSubstitution(text) { text = substitute(text, at: loc) }
            return YAMLNode(kind: .scalar(text, plain: node.plain), location: loc)
        case .sequence:
            var items: [YAMLNode] = []
            items.reserveCapacity(Int(node.count))
            for i in 0..<Int(node.count) {
                items.append(convert(document.child(node, i), depth: depth + 1))
                if aborted { break }
            }
            return YAMLNode(kind: .sequence(items), location: loc)
        case .mapping:
            let count = Int(node.count) / 2
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            pairs.reserveCapacity(count)
            // Keys equal after substitution are reported here (keys that are equal YAML nodes never get this far:
            // composing rejects them). Small mappings are searched, large ones hashed.
            var seen: [String: SourceLocation] = [:]
            let hashed = count > 8
            for i in 0..<count {
                let key = convert(document.child(node, 2 * i), depth: depth + 1)
                if let text = key.scalarText {
                    let first = hashed ? seen[text] : pairs.first(where: { $0.key.scalarText == text })?.key.location
                    if let first {
                        diagnostics.append(Diagnostic(.duplicateKey, "duplicate key `\(text)`", at: key.location,
                            help: "each key may appear once in a mapping; merge the two entries",
                            notes: [.init("first defined here", at: first)]))
                    } else if hashed {
                        seen[text] = key.location
                    }
                }
                let value = convert(document.child(node, 2 * i + 1), depth: depth + 1)
                pairs.append((key, value))
                if aborted { break }
            }
            return YAMLNode(kind: .mapping(pairs), location: loc)
        }
    }

    /// Whether `text` holds `${` or `$$`, the only texts ``substitute(_:at:)`` changes. A byte scan: this runs
    /// for every scalar of every policy.
    static func needsSubstitution(_ text: String) -> Bool {
        var afterDollar = false
        for byte in text.utf8 {
            if afterDollar, byte == UInt8(ascii: "{") || byte == UInt8(ascii: "$") { return true }
            afterDollar = byte == UInt8(ascii: "$")
        }
        return false
    }

    /// Replaces `${VAR}` from the environment; `$${` is a literal `${`. An unset variable is an error.
    mutating func substitute(_ text: String, at loc: SourceLocation) -> String {
        Self.substitute(text, environment: options.environment, at: loc, diagnostics: &diagnostics)
    }

    static func substitute(_ text: String, environment: [String: String], at loc: SourceLocation,
                           diagnostics: inout Diagnostics) -> String {
        var out = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            if after.hasPrefix("${") {
                out += "${"
                rest = after.dropFirst(2)
            } else if after.hasPrefix("{"), let close = after.firstIndex(of: "}") {
                let name = String(after[after.index(after: after.startIndex)..<close])
                if let value = environment[name], !name.isEmpty {
                    out += value
                } else {
                    diagnostics.append(Diagnostic(.unsetVariable, "environment variable `\(name)` is not set", at: loc,
                        help: "set `\(name)` before loading the policy, or write `$${` for a literal `${`"))
                    out += "${\(name)}"
                }
                rest = after[after.index(after: close)...]
            } else {
                out += "$"
                rest = after
            }
        }
        out += rest
        return out
    }
}
