import Foundation
import Yams

// The loader as it was before the event-based composer: Yams' `Parser.singleRoot` builds a `Node` tree, then
// `LegacyTreeBuilder` converts it. Not used by the compiler; kept, unchanged, as the reference that
// `LoaderDifferentialTests` compares the event-based loader against (trees, locations and diagnostics).

extension PolicyLoader {
    /// Parses bytes through Yams' composer (the reference path). Same contract as ``parse(data:path:includedFrom:diagnostics:)``.
    func parseWithYamsComposer(data: Data, path: String, includedFrom: SourceLocation? = nil,
                               diagnostics: inout Diagnostics) -> LoadedFile? {
        if data.count > options.maxFileBytes {
            diagnostics.append(Diagnostic(.fileTooLarge,
                "file is \(data.count) bytes, over the limit of \(options.maxFileBytes)",
                at: includedFrom ?? SourceLocation(file: path, line: 1, column: 1),
                help: "split the policy with `include:` or raise the limit (`--max-file-bytes`)"))
            return nil
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            let (line, column) = Self.firstInvalidUTF8(in: data)
            diagnostics.append(Diagnostic(.invalidUTF8, "file is not valid UTF-8",
                at: SourceLocation(file: path, line: line, column: column),
                help: "save the file as UTF-8; policy files must be UTF-8 text"))
            return nil
        }
        var file = LoadedFile(path: path, text: text, root: nil)
        let composed: Node?
        do {
            let parser = try Parser(yaml: text)
            composed = try parser.singleRoot()
        } catch let error as YamlError {
            diagnostics.append(Self.diagnostic(for: YAMLSyntaxError(error), path: path, text: text))
            return file
        } catch {
            diagnostics.append(Diagnostic(.yamlSyntax, "cannot parse YAML: \(error)",
                at: SourceLocation(file: path, line: 1, column: 1), help: "fix the YAML syntax"))
            return file
        }
        guard let composed else { return file }
        var builder = LegacyTreeBuilder(path: path, options: options)
        file.root = builder.convert(composed, depth: 1)
        diagnostics.append(contentsOf: builder.diagnostics)
        if builder.aborted { file.root = nil }
        return file
    }

}

/// The reference converter: Yams nodes into located ``YAMLNode``s, checking limits and substituting `${VAR}`.
struct LegacyTreeBuilder {
    let path: String
    let options: LoadOptions
    var diagnostics = Diagnostics()
    var nodes = 0
    var aborted = false

    init(path: String, options: LoadOptions) {
        self.path = path
        self.options = options
    }

    func location(_ mark: Mark?) -> SourceLocation {
        SourceLocation(file: path, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    mutating func abort(_ diagnostic: Diagnostic) {
        if !aborted { diagnostics.append(diagnostic) }
        aborted = true
    }

    mutating func convert(_ node: Node, depth: Int) -> YAMLNode {
        let loc = location(node.mark)
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
        switch node {
        case .scalar(let scalar):
            var text = scalar.string
            if text.utf8.count > options.maxScalarBytes {
                diagnostics.append(Diagnostic(.scalarTooLong,
                    "scalar is \(text.utf8.count) bytes, over the limit of \(options.maxScalarBytes)", at: loc,
                    help: "policy values are names and short descriptions; shorten it"))
                // A quoted empty placeholder: reported once, without a knock-on "wrong type: null".
                return YAMLNode(kind: .scalar("", plain: false), location: loc)
            }
            if text.contains("${") || text.contains("$$") { text = substitute(text, at: loc) }
            return YAMLNode(kind: .scalar(text, plain: scalar.style == .plain), location: loc)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                items.append(convert(item, depth: depth + 1))
                if aborted { break }
            }
            return YAMLNode(kind: .sequence(items), location: loc)
        case .mapping(let mapping):
            var pairs: [(key: YAMLNode, value: YAMLNode)] = []
            pairs.reserveCapacity(mapping.count)
            var seen: [String: SourceLocation] = [:]
            for (k, v) in mapping {
                let key = convert(k, depth: depth + 1)
                if let text = key.scalarText {
                    if let first = seen[text] {
                        diagnostics.append(Diagnostic(.duplicateKey, "duplicate key `\(text)`", at: key.location,
                            help: "each key may appear once in a mapping; merge the two entries",
                            notes: [.init("first defined here", at: first)]))
                    } else {
                        seen[text] = key.location
                    }
                }
                let value = convert(v, depth: depth + 1)
                pairs.append((key, value))
                if aborted { break }
            }
            return YAMLNode(kind: .mapping(pairs), location: loc)
        case .alias:
            return YAMLNode(kind: .scalar("", plain: true), location: loc)
        }
    }

    /// Replaces `${VAR}` from the environment; `$${` is a literal `${`. An unset variable is an error.
    mutating func substitute(_ text: String, at loc: SourceLocation) -> String {
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
                if let value = options.environment[name], !name.isEmpty {
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

