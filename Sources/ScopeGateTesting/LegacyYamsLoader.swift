import Foundation
import ScopeGate
import Yams

// The reference loader: Yams' `Parser.singleRoot` builds a `Node` tree, then `LegacyTreeBuilder` converts it.
// Not used by the compiler; `LoaderDifferentialTests` compares the event-based loader (libyaml events composed by
// `ComposedYAML`) against it: trees, locations and diagnostics.

extension PolicyLoader {
    /// Parses bytes through Yams' composer (the reference path). Same contract as ``parse(data:path:includedFrom:diagnostics:)``.
    package func parseWithYamsComposer(
        data: Data, path: String, includedFrom: SourceLocation? = nil,
        diagnostics: inout Diagnostics
    ) -> LoadedFile? {
        // Size and UTF-8 are checked by the loader's own reading: the reference differs only in how YAML is composed.
        guard let text = text(of: data, path: path, includedFrom: includedFrom, diagnostics: &diagnostics) else {
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
            diagnostics.append(
                Diagnostic(
                    .yamlSyntax, "cannot parse YAML: \(error)",
                    at: SourceLocation(file: path, line: 1, column: 1), help: "fix the YAML syntax"))
            return file
        }
        guard let composed else { return file }
        var builder = LegacyTreeBuilder(path: path, options: options)
        let root = builder.convert(composed, depth: 1)
        diagnostics.append(contentsOf: builder.diagnostics)
        if !builder.aborted {
            builder.document.root = root
            file.root = YAMLDocument(path: path, composed: builder.document).root
        }
        return file
    }

}

/// The reference converter: Yams nodes into a located ``YAMLDocument`` (Yams has already expanded every alias
/// into a copy), checking limits and substituting `${VAR}`.
struct LegacyTreeBuilder {
    let path: String
    let options: LoadOptions
    var diagnostics = Diagnostics()
    var nodes = 0
    var aborted = false
    /// The converted nodes, children before their parent.
    var document = ComposedYAML()

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

    mutating func scalar(_ text: String, plain: Bool, at loc: SourceLocation) -> Int32 {
        document.strings.append(text)
        return append(.scalar, plain: plain, at: loc, first: document.strings.count - 1, count: 0)
    }

    mutating func collection(_ kind: ComposedYAML.Node.Kind, _ children: [Int32], at loc: SourceLocation) -> Int32 {
        let first = document.children.count
        document.children.append(contentsOf: children)
        return append(kind, plain: false, at: loc, first: first, count: children.count)
    }

    mutating func append(_ kind: ComposedYAML.Node.Kind, plain: Bool, at loc: SourceLocation, first: Int, count: Int)
        -> Int32
    {
        document.nodes.append(
            .init(
                kind: kind, plain: plain, line: Int32(clamping: loc.line),
                column: Int32(clamping: loc.column), first: Int32(first), count: Int32(count)))
        return Int32(document.nodes.count - 1)
    }

    /// The text of a converted node when it is a scalar.
    func scalarText(_ index: Int32) -> String? {
        let node = document.node(index)
        return node.kind == .scalar ? document.text(of: node) : nil
    }

    mutating func convert(_ node: Node, depth: Int) -> Int32 {
        let loc = location(node.mark)
        nodes += 1
        if aborted { return scalar("", plain: true, at: loc) }
        if nodes > options.maxNodes {
            abort(
                Diagnostic(
                    .tooManyNodes,
                    "document expands to more than \(options.maxNodes) nodes",
                    at: loc, help: "aliases (`*name`) that reference large anchors multiply the document; remove them"))
            return scalar("", plain: true, at: loc)
        }
        if depth > options.maxDepth {
            abort(
                Diagnostic(
                    .nestingTooDeep, "nesting is deeper than \(options.maxDepth) levels", at: loc,
                    help: "flatten the structure; policies need only a few levels"))
            return scalar("", plain: true, at: loc)
        }
        switch node {
        case .scalar(let yamsScalar):
            var text = yamsScalar.string
            if text.utf8.count > options.maxScalarBytes {
                diagnostics.append(
                    Diagnostic(
                        .scalarTooLong,
                        "scalar is \(text.utf8.count) bytes, over the limit of \(options.maxScalarBytes)", at: loc,
                        help: "policy values are names and short descriptions; shorten it"))
                // A quoted empty placeholder: reported once, without a knock-on "wrong type: null".
                return scalar("", plain: false, at: loc)
            }
            if text.contains("${") || text.contains("$$") { text = substitute(text, at: loc) }
            return scalar(text, plain: yamsScalar.style == .plain, at: loc)
        case .sequence(let sequence):
            var items: [Int32] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                items.append(convert(item, depth: depth + 1))
                if aborted { break }
            }
            return collection(.sequence, items, at: loc)
        case .mapping(let mapping):
            var children: [Int32] = []
            children.reserveCapacity(2 * mapping.count)
            var seen: [String: SourceLocation] = [:]
            for (k, v) in mapping {
                let key = convert(k, depth: depth + 1)
                if let text = scalarText(key) {
                    let keyLocation = location(k.mark)
                    if let first = seen[text] {
                        diagnostics.append(
                            Diagnostic(
                                .duplicateKey, "duplicate key `\(text)`", at: keyLocation,
                                help: "each key may appear once in a mapping; merge the two entries",
                                notes: [.init("first defined here", at: first)]))
                    } else {
                        seen[text] = keyLocation
                    }
                }
                let value = convert(v, depth: depth + 1)
                children.append(key)
                children.append(value)
                if aborted { break }
            }
            return collection(.mapping, children, at: loc)
        case .alias:
            return scalar("", plain: true, at: loc)
        }
    }

    /// Replaces `${VAR}` from the environment through the core's substitution: the reference checks the YAML
    /// composer path, not a second copy of the substitution rules.
    mutating func substitute(_ text: String, at loc: SourceLocation) -> String {
        TreeBuilder.substitute(text, environment: options.environment, at: loc, diagnostics: &diagnostics)
    }
}

extension YAMLSyntaxError {
    /// The same error as Yams reports it (the reference path, kept for differential tests).
    package init(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            self = .syntax(context: context?.text, problem: problem, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self = .duplicateKey(duplicates.first ?? "", line: context.mark.line, column: context.mark.column)
        case .reader(let problem, let offset, _, _):
            self = .reader(problem: problem, offset: offset)
        default:
            self = .other("\(error)")
        }
    }
}
