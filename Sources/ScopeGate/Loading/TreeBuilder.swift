/// Checks a ``ComposedYAML`` document and turns it into a ``YAMLDocument``: expands aliases while walking,
/// checks the node, depth and scalar limits, substitutes `${VAR}` and reports keys equal after substitution.
///
/// Nodes are visited depth first, key before value, and an alias is walked where it is used, so a node count
/// includes every expansion (a "billion laughs" document stops at `maxNodes`) and every use of an aliased node
/// reports its own problems, as a tree of copies would. No tree is built: the document's flat arrays are kept,
/// and the scalars that change (substituted, or over the length limit) are rewritten in place after the walk.
/// The first limit crossed aborts the walk with one diagnostic; the file then has no document.
package struct TreeBuilder {
    let path: String
    let options: LoadOptions
    var document: ComposedYAML
    var diagnostics = Diagnostics()
    var nodes = 0
    var aborted = false
    /// Scalars to rewrite after the walk, by node: the substituted text, or a quoted empty placeholder for a
    /// scalar over the length limit. (The walk reads the original text: an aliased scalar is substituted, and
    /// its unset variables reported, at each use.)
    var rewrites: [Int32: (text: String, plain: Bool)] = [:]

    init(path: String, options: LoadOptions, document: ComposedYAML) {
        self.path = path
        self.options = options
        self.document = document
    }

    /// The checked document, or nil for an empty one or when a limit aborted the walk.
    mutating func build() -> YAMLDocument? {
        guard let root = document.root else { return nil }
        _ = visit(root, depth: 1)
        if aborted { return nil }
        for (index, rewrite) in rewrites {
            let i = Int(index)
            document.strings[Int(document.nodes[i].first)] = rewrite.text
            document.nodes[i].plain = rewrite.plain
        }
        rewrites = [:]
        return YAMLDocument(path: path, composed: document)
    }

    mutating func abort(_ diagnostic: Diagnostic) {
        if !aborted { diagnostics.append(diagnostic) }
        aborted = true
    }

    /// The text a key already visited reads as: its substituted or placeholder text if it changed; nil for a
    /// collection.
    func scalarText(_ index: Int32) -> String? {
        let node = document.node(index)
        guard node.kind == .scalar else { return nil }
        return rewrites[index]?.text ?? document.text(of: node)
    }

    func location(_ node: ComposedYAML.Node) -> SourceLocation {
        SourceLocation(file: path, line: Int(node.line), column: Int(node.column))
    }

    /// Walks the node; returns the text it reads as when it is a scalar (after substitution; `""` for a
    /// placeholder), for the duplicate-key check of the mapping holding it.
    mutating func visit(_ index: Int32, depth: Int) -> String? {
        let node = document.node(index)
        nodes += 1
        if aborted { return "" }
        if nodes > options.maxNodes {
            abort(
                Diagnostic(
                    .tooManyNodes,
                    "document expands to more than \(options.maxNodes) nodes",
                    at: location(node),
                    help: "aliases (`*name`) that reference large anchors multiply the document; remove them"))
            return ""
        }
        if depth > options.maxDepth {
            abort(
                Diagnostic(
                    .nestingTooDeep, "nesting is deeper than \(options.maxDepth) levels", at: location(node),
                    help: "flatten the structure; policies need only a few levels"))
            return ""
        }
        switch node.kind {
        case .scalar:
            let text = document.text(of: node)
            if text.utf8.count > options.maxScalarBytes {
                diagnostics.append(
                    Diagnostic(
                        .scalarTooLong,
                        "scalar is \(text.utf8.count) bytes, over the limit of \(options.maxScalarBytes)",
                        at: location(node),
                        help: "policy values are names and short descriptions; shorten it"))
                // A quoted empty placeholder: reported once, without a knock-on "wrong type: null".
                rewrites[index] = ("", false)
                return ""
            }
            guard node.hasDollar, Self.needsSubstitution(text) else { return text }
            let substituted = substitute(text, at: location(node))
            rewrites[index] = (substituted, node.plain)
            return substituted
        case .sequence:
            for i in 0..<Int(node.count) {
                _ = visit(document.child(node, i), depth: depth + 1)
                if aborted { break }
            }
            return nil
        case .mapping:
            let count = Int(node.count) / 2
            // Keys equal after substitution are reported here (keys that are equal YAML nodes never get this far:
            // composing rejects them). Small mappings are searched, large ones hashed. While no key has changed
            // and the composer saw no two keys of equal text, none can be equal: the check starts (with the keys
            // before) only at the first changed key, so a large mapping usually hashes no key at all.
            var checking = node.keysShareText
            var seen: [String: Int32] = [:]
            var small: [(text: String?, node: Int32)] = []
            let hashed = count > 8
            func record(_ text: String?, _ keyIndex: Int32) {
                if hashed {
                    if let text, seen[text] == nil { seen[text] = keyIndex }
                } else {
                    small.append((text, keyIndex))
                }
            }
            for i in 0..<count {
                let keyIndex = document.child(node, 2 * i)
                let keyText = visit(keyIndex, depth: depth + 1)
                if !checking, let keyText, keyText != document.text(of: document.node(keyIndex)) {
                    checking = true
                    for j in 0..<i {
                        let earlier = document.child(node, 2 * j)
                        record(scalarText(earlier), earlier)
                    }
                }
                if checking {
                    if let text = keyText {
                        let first = hashed ? seen[text] : small.first(where: { $0.text == text })?.node
                        if let first {
                            diagnostics.append(
                                Diagnostic(
                                    .duplicateKey, "duplicate key `\(text)`",
                                    at: location(document.node(keyIndex)),
                                    help: "each key may appear once in a mapping; merge the two entries",
                                    notes: [.init("first defined here", at: location(document.node(first)))]))
                        }
                    }
                    record(keyText, keyIndex)
                }
                _ = visit(document.child(node, 2 * i + 1), depth: depth + 1)
                if aborted { break }
            }
            return nil
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

    package static func substitute(
        _ text: String, environment: [String: String], at loc: SourceLocation,
        diagnostics: inout Diagnostics
    ) -> String {
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
                    diagnostics.append(
                        Diagnostic(
                            .unsetVariable, "environment variable `\(name)` is not set", at: loc,
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
