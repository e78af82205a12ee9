internal import CLibYAML
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A YAML document composed straight from libyaml's parser events, held flat: nodes in one array, children as
/// index ranges into another. An alias is not a node of its own: its parent refers to the anchored node's index,
/// so the tree is a DAG and alias expansion (and its node count) happens when ``TreeBuilder`` walks it.
///
/// The composition rules are those of Yams' `Parser.singleRoot` (the reference loader in `ScopeGateTesting`,
/// which builds a `Node` tree with resolved tags), so trees, locations and errors are the same: anchors are
/// registered when their node ends (a node cannot refer to itself), later anchors shadow earlier ones, an
/// undefined alias is a composer error, and a mapping with two equal keys (``DuplicateKeyNode``) is an error that
/// reports the same key at the same place.
package struct ComposedYAML: Sendable {
    package struct Node: Sendable {
        package enum Kind: UInt8, Sendable { case scalar, sequence, mapping }
        package var kind: Kind
        /// A scalar written plainly (not quoted, not a block scalar): its text may be a null, boolean or number.
        package var plain: Bool
        /// A mapping with two scalar keys of equal text (equal nodes are a composer error, so these differ in
        /// tag, like `1` and `"1"`). Only such a mapping, or one whose keys change in ``TreeBuilder``, can have
        /// keys that read the same.
        package var keysShareText = false
        /// A scalar whose text holds a `$` (only such a text can need `${VAR}` substitution).
        package var hasDollar = false
        /// 1-based, as Yams' `Mark`. (32 bits: a policy file is far below 2³¹ lines; the node stays 20 bytes.)
        package var line: Int32
        package var column: Int32
        /// Scalar: index into `strings`. Sequence and mapping: start of the children in `children`.
        package var first: Int32
        /// Number of children (a mapping has key, value, key, value, …).
        package var count: Int32

        package init(
            kind: Kind, plain: Bool, keysShareText: Bool = false, hasDollar: Bool = false, line: Int32, column: Int32,
            first: Int32, count: Int32
        ) {
            self.kind = kind
            self.plain = plain
            self.keysShareText = keysShareText
            self.hasDollar = hasDollar
            self.line = line
            self.column = column
            self.first = first
            self.count = count
        }
        // Tags and expanded sizes are only needed while composing (for the duplicate-key check), so the composer
        // keeps them beside the nodes, and a node stays 20 bytes for as long as the document lives.
    }

    package var nodes: [Node] = []
    package var strings: [String] = []
    package var children: [Int32] = []
    /// The document's root; nil for an empty stream.
    package var root: Int32?

    package init() {}

    package func node(_ index: Int32) -> Node { nodes[Int(index)] }
    package func text(of node: Node) -> String { strings[Int(node.first)] }
    package func child(_ node: Node, _ i: Int) -> Int32 { children[Int(node.first) + i] }
}

extension ComposedYAML {
    /// Composes the single document of `text` (UTF-8), or reports the first error, as Yams'
    /// `Parser(yaml:).singleRoot()` would.
    static func compose(_ text: String) -> Result<ComposedYAML, YAMLSyntaxError> {
        var buffer = text
        return buffer.withUTF8 { bytes in
            var composer = EventComposer(text: text)
            do throws(YAMLSyntaxError) {
                try composer.run(bytes)
                return .success(composer.document)
            } catch {
                return .failure(error)
            }
        }
    }
}

/// Drives libyaml's event parser and builds a ``ComposedYAML``. Owns the libyaml parser and event.
struct EventComposer: ~Copyable {
    let text: String
    var document = ComposedYAML()
    /// libyaml keeps a pointer to the parser in itself, so the parser must not move: it lives on the heap.
    let parser: UnsafeMutablePointer<yaml_parser_t>
    let event: UnsafeMutablePointer<yaml_event_t>
    var hasEvent = false
    var initialized = false

    /// Children of the containers still open, concatenated; each open container remembers where its start.
    var pending: [Int32] = []
    var open: [OpenContainer] = []
    var anchors: [String: Int32] = [:]
    /// Reused by every large mapping's duplicate check (checks never nest: a mapping is checked when it ends).
    var seenKeys = Set<String>()
    /// Reused by the large mappings' duplicate check on ASCII keys: node index + 1 per slot, 0 when empty.
    var keyTable: [Int32] = []
    var strTag: Int32 = -1
    /// By node: index into `tagNames` of the node's explicit tag (as libyaml resolves it), or -1 for an implicit
    /// tag.
    var nodeTags: [Int32] = []
    /// By node: the number of nodes it expands to, aliases included, saturating.
    var nodeSizes: [Int] = []
    var tagNames: [String] = []

    struct OpenContainer {
        var kind: ComposedYAML.Node.Kind
        var line: Int32
        var column: Int32
        var tag: Int32
        var anchor: String?
        var pendingStart: Int
    }

    init(text: String) {
        self.text = text
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        event = .allocate(capacity: 1)
        event.initialize(to: yaml_event_t())
    }

    deinit {
        if hasEvent { yaml_event_delete(event) }
        if initialized { yaml_parser_delete(parser) }
        parser.deallocate()
        event.deallocate()
    }

    mutating func run(_ bytes: UnsafeBufferPointer<UInt8>) throws(YAMLSyntaxError) {
        guard yaml_parser_initialize(parser) == 1 else { throw .other("Memory error") }
        initialized = true
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(parser, bytes.baseAddress, bytes.count)
        // Policies run at about 13 bytes of text per node; a short estimate only costs one doubling.
        document.nodes.reserveCapacity(bytes.count / 12)
        document.strings.reserveCapacity(bytes.count / 14)
        document.children.reserveCapacity(bytes.count / 12)
        nodeTags.reserveCapacity(bytes.count / 12)
        nodeSizes.reserveCapacity(bytes.count / 12)
        try next()  // the stream start
        try next()
        guard event.pointee.type != YAML_STREAM_END_EVENT else { return }  // an empty stream: no document
        try next()  // the document start's first node event
        document.root = try composeNode()
        try next()  // the document end
        try next()
        if event.pointee.type != YAML_STREAM_END_EVENT {
            // Yams puts this in the context, and the mark of the next document's start in the problem mark.
            throw .syntax(
                context: "expected a single document in the stream", problem: "but found another document",
                line: event.pointee.start_mark.line + 1, column: event.pointee.start_mark.column + 1)
        }
    }

    /// Replaces the current event with the next one.
    mutating func next() throws(YAMLSyntaxError) {
        if hasEvent {
            yaml_event_delete(event)
            hasEvent = false
        }
        guard yaml_parser_parse(parser, event) == 1 else { throw error() }
        hasEvent = true
    }

    /// Composes the node starting at the current event (and every node inside it); returns its index.
    mutating func composeNode() throws(YAMLSyntaxError) -> Int32 {
        let base = open.count
        while true {
            let e = event.pointee
            var done: Int32?
            switch e.type {
            case YAML_SCALAR_EVENT:
                let s = e.data.scalar
                let value = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                var tag: Int32 = -1
                if s.quoted_implicit == 1 {
                    tag = strTagIndex()
                } else if let name = Self.string(s.tag) {
                    tag = intern(tag: name)
                }
                document.strings.append(value)
                done = append(
                    .init(
                        kind: .scalar, plain: s.style == YAML_PLAIN_SCALAR_STYLE,
                        hasDollar: s.length > 0 && memchr(s.value, 0x24, s.length) != nil,
                        line: Int32(clamping: e.start_mark.line + 1), column: Int32(clamping: e.start_mark.column + 1),
                        first: Int32(document.strings.count - 1), count: 0),
                    tag: tag, size: 1, anchor: Self.string(s.anchor))
            case YAML_ALIAS_EVENT:
                guard let name = Self.string(e.data.alias.anchor), let target = anchors[name] else {
                    throw .syntax(
                        context: nil, problem: "found undefined alias",
                        line: e.start_mark.line + 1, column: e.start_mark.column + 1)
                }
                done = target
            case YAML_SEQUENCE_START_EVENT:
                let s = e.data.sequence_start
                openContainer(.sequence, at: e.start_mark, implicit: s.implicit != 0, tag: s.tag, anchor: s.anchor)
            case YAML_MAPPING_START_EVENT:
                let m = e.data.mapping_start
                openContainer(.mapping, at: e.start_mark, implicit: m.implicit != 0, tag: m.tag, anchor: m.anchor)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard open.count > base, let container = open.popLast() else {
                    throw .other("unexpected end of a collection")
                }
                // Move the children out of `pending` first: a slice of it kept alive across the removal would
                // copy the whole array (the top-level mappings' pending children) at every container end.
                let first = document.children.count
                document.children.append(contentsOf: pending[container.pendingStart...])
                pending.removeLast(pending.count - container.pendingStart)
                let items = first..<document.children.count
                let keysShareText = container.kind == .mapping ? try checkDuplicates(items) : false
                var size = 1
                for i in items { size = Self.add(size, nodeSizes[Int(document.children[i])]) }
                done = append(
                    .init(
                        kind: container.kind, plain: false, keysShareText: keysShareText, line: container.line,
                        column: container.column, first: Int32(first), count: Int32(items.count)),
                    tag: container.tag, size: size, anchor: container.anchor)
            default:
                throw .other("unexpected YAML event \(e.type.rawValue)")
            }
            if let done {
                if open.count == base { return done }
                pending.append(done)
            }
            try next()
        }
    }

    /// Appends a finished node and registers its anchor (after the node, as Yams does: no self-reference).
    mutating func append(_ node: ComposedYAML.Node, tag: Int32, size: Int, anchor: String?) -> Int32 {
        let index = Int32(document.nodes.count)
        document.nodes.append(node)
        nodeTags.append(tag)
        nodeSizes.append(size)
        if let anchor { anchors[anchor] = index }
        return index
    }

    /// Opens a sequence or a mapping that starts at `mark`, with its explicit tag (none when `implicit`) and anchor.
    mutating func openContainer(
        _ kind: ComposedYAML.Node.Kind, at mark: yaml_mark_t, implicit: Bool,
        tag: UnsafeMutablePointer<yaml_char_t>?, anchor: UnsafeMutablePointer<yaml_char_t>?
    ) {
        open.append(
            .init(
                kind: kind, line: Int32(clamping: mark.line + 1), column: Int32(clamping: mark.column + 1),
                tag: implicit ? -1 : (Self.string(tag).map { intern(tag: $0) } ?? -1), anchor: Self.string(anchor),
                pendingStart: pending.count))
    }

    mutating func strTagIndex() -> Int32 {
        if strTag < 0 { strTag = intern(tag: DuplicateKeyNode.strTag) }
        return strTag
    }

    mutating func intern(tag: String) -> Int32 {
        if let i = tagNames.firstIndex(of: tag) { return Int32(i) }
        tagNames.append(tag)
        return Int32(tagNames.count - 1)
    }

    static func add(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : sum
    }

    /// A NUL-terminated tag or anchor name. Yams repairs invalid UTF-8 in these; so does `String(decoding:)`.
    static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        var length = 0
        while pointer[length] != 0 { length += 1 }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The parser's error, as Yams' `YamlError(from:with:)` builds it.
    func error() -> YAMLSyntaxError {
        let p = parser.pointee
        func cString(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }
        switch p.error {
        case YAML_READER_ERROR:
            let index = text.utf8.index(
                text.utf8.startIndex, offsetBy: p.problem_offset, limitedBy: text.utf8.endIndex)?
                .samePosition(in: text)
            return .reader(
                problem: cString(p.problem), offset: index.map { text.distance(from: text.startIndex, to: $0) })
        case YAML_SCANNER_ERROR, YAML_PARSER_ERROR, YAML_COMPOSER_ERROR:
            return .syntax(
                context: p.context.map { String(cString: $0) }, problem: cString(p.problem),
                line: p.problem_mark.line + 1, column: p.problem_mark.column + 1)
        default:
            return .other("Memory error")
        }
    }
}
