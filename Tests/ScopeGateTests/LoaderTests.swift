import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate

// The event-based loader (libyaml events → `ComposedYAML` → `TreeBuilder`) against the loader it replaced
// (Yams' `Parser.singleRoot` → `LegacyTreeBuilder`, kept as `parseWithYamsComposer`): the same tree, the same
// locations, the same diagnostics, on every policy in the repository, generated policies, hand-written edge cases
// and thousands of mutated files. Plus direct checks of what the new loader has to get right on its own.

private let loaderRepoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The first difference between two trees (kind, text, plainness, location, order), or nil when identical.
func treeDifference(_ a: YAMLNode?, _ b: YAMLNode?, at path: String = "$") -> String? {
    guard let a, let b else { return (a == nil) == (b == nil) ? nil : "\(path): one tree is nil" }
    if a.location != b.location { return "\(path): location \(a.location) vs \(b.location)" }
    switch (a.kind, b.kind) {
    case (.scalar(let s1, let p1), .scalar(let s2, let p2)):
        return s1 == s2 && p1 == p2
            ? nil : "\(path): scalar \(s1.debugDescription) plain=\(p1) vs \(s2.debugDescription) plain=\(p2)"
    case (.sequence(let x), .sequence(let y)):
        guard x.count == y.count else { return "\(path): \(x.count) vs \(y.count) items" }
        for i in x.indices { if let d = treeDifference(x[i], y[i], at: "\(path)[\(i)]") { return d } }
        return nil
    case (.mapping(let x), .mapping(let y)):
        guard x.count == y.count else { return "\(path): \(x.count) vs \(y.count) pairs" }
        for i in x.indices {
            if let d = treeDifference(x[i].key, y[i].key, at: "\(path).key\(i)") { return d }
            if let d = treeDifference(x[i].value, y[i].value, at: "\(path).\(x[i].key.scalarText ?? "?")") { return d }
        }
        return nil
    default:
        return "\(path): kind differs"
    }
}

/// Loads `data` both ways; returns a description of the first difference, or nil.
func loaderDifference(
    _ data: Data, path: String = "p.yaml", options: LoadOptions = LoadOptions(environment: ["SET": "v", "K": "a"])
) -> String? {
    let loader = PolicyLoader(options: options)
    var new = Diagnostics()
    var old = Diagnostics()
    let n = loader.parse(data: data, path: path, diagnostics: &new)
    let o = loader.parseWithYamsComposer(data: data, path: path, diagnostics: &old)
    if new != old { return "diagnostics differ:\n  new: \(Array(new))\n  old: \(Array(old))" }
    if (n == nil) != (o == nil) { return "one file is nil" }
    // (The loaders keep no file hash: equal text is equal bytes.)
    if n?.text != o?.text { return "text differs" }
    return treeDifference(n?.root, o?.root)
}

private func yamlFiles(under relative: String) -> [URL] {
    let root = loaderRepoRoot.appendingPathComponent(relative)
    guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
    return walker.compactMap { $0 as? URL }.filter { $0.pathExtension == "yaml" || $0.pathExtension == "yml" }
        .sorted { $0.path < $1.path }
}

/// Hand-written inputs for the corners: anchors, aliases, keys, styles, errors.
let loaderEdgeCases: [String] = [
    "",
    "# only a comment\n",
    "---\n",
    "---\n...\n",
    "a: 1\n---\nb: 2\n",
    "a: 1\n--- \n",
    "~",
    "plain scalar root",
    "\"quoted root\"",
    "[a, 'b', \"c\", |\n  d\n]\n",
    "a: &x {b: 1, c: [2, 3]}\nd: *x\ne: *x\n",
    "a: *undefined\n",
    "a: &x [*x]\n",
    "a: &x 1\nb: &x 2\nc: *x\n",
    "a: 1\na: 2\n",
    "a: 1\nb: {c: 1, c: 2}\n",
    "a: {c: 1, \"c\": 2}\n",
    "a: {c: 1, 'c': 2}\n",
    "a: {1: x, \"1\": y}\n",
    "a: {true: x, \"true\": y}\n",
    "a: {~: x, null: y, '': z}\n",
    "a: {!!str 1: x, 1: y}\n",
    "a: {!!str 1: x, \"1\": y}\n",
    "a: {!!int 1: x, 1: y}\n",
    "a: {!custom k: x, k: y}\n",
    "? [a, b]\n: 1\n? [a, b]\n: 2\n",
    "? [a, b]\n: 1\n? [a, c]\n: 2\n",
    "? {a: 1}\n: x\n? {a: 1}\n: y\n",
    "? &k [a]\n: 1\n? *k\n: 2\n",
    "k: &k v\n*k : 2\n",
    "${K}b: 1\nab: 2\n",
    "a${SET}: 1\n${K}${SET}: 2\n",
    "a: ${UNSET}\nb: $${LITERAL}\nc: $$\nd: cost $5\ne: ${SET}\n",
    "a: &s ${UNSET}\nb: *s\nc: *s\n",
    "a:\n\t- b\n",
    "a:\n  b: c\n\td: e\n",
    "a: b: c\n",
    "a: [1, 2\n",
    "a: {b\n",
    "a: 'unterminated\n",
    "- a\nb: c\n",
    "a: @b\n",
    "a: `b`\n",
    "a: %b\n",
    "%YAML 1.1\n---\na: 1\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "a: !!binary aGVsbG8=\n",
    "a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\n",
    "a: 'it''s'\nb: \"esc\\t\\u00e9\"\n",
    "a: \"é 日本\" \nb: é\n  c\n",
    "é: {ü: [日, 本]}\n",
    "a: \u{07}\n",
    "a: b\u{0C}\n",
    "\u{FEFF}a: 1\n",
    "a:    \n  - x\n  -\n  - ~\n",
    "<<: {a: 1}\nb: 2\n",
    "a: [{b: 1}, {c: [2, {d: 3}]}]\n",
    "a: {b: 1, b: 2, c: 3, c: 4}\n",
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, k3: 11}\n",
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, \"1\": 1, 1: 2}\n",
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, k10: 10, a${SET}: 1, av: 2}\n",
    // Large mappings with non-ASCII keys (the composer's byte-hash check is for ASCII keys only): canonically
    // equal keys (precomposed and decomposed `é`) are equal to Yams; distinct ones are not.
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, \"\u{E9}\": 1, \"e\u{301}\": 2}\n",
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, é: 1, ü: 2, k10: 3}\n",
    "m: {k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9, [x]: 1, [y]: 2, k1: 3}\n",
    "x: &a [1, 2]\ny: &b [*a, *a, *a]\nz: [*b, *b, *b, *b]\n",
    String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "\n",
    String(repeating: "[", count: 1100) + String(repeating: "]", count: 1100) + "\n",
    String(repeating: "- ", count: 80) + "x\n",
]

@Suite("Loader: event-based composer vs Yams' composer")
struct LoaderDifferentialTests {
    @Test("every YAML file in policies/ and Tests/Corpus loads identically")
    func repositoryFiles() throws {
        let files = yamlFiles(under: "policies") + yamlFiles(under: "Tests/Corpus")
        #expect(files.count > 50)
        for url in files {
            let data = try Data(contentsOf: url)
            let difference = loaderDifference(data, path: url.path)
            #expect(difference == nil, "\(url.lastPathComponent): \(difference ?? "")")
        }
    }

    @Test("generated policies load identically", arguments: [(50, 20, 1), (300, 120, 7), (2_000, 1_000, 42)])
    func generated(tools: Int, scopes: Int, seed: UInt64) {
        let source = SyntheticPolicy.generate(tools: tools, scopes: scopes, seed: seed)
        let difference = loaderDifference(Data(source.utf8), path: "synthetic.yaml")
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test("hand-written edge cases load identically")
    func edgeCases() {
        for (i, source) in loaderEdgeCases.enumerated() {
            let difference = loaderDifference(Data(source.utf8))
            #expect(difference == nil, "case \(i) \(source.prefix(60).debugDescription): \(difference ?? "")")
        }
    }

    @Test("edge cases under tight limits load identically")
    func tightLimits() {
        var options = LoadOptions(environment: ["SET": "v"])
        options.maxNodes = 7
        options.maxDepth = 3
        options.maxScalarBytes = 4
        for (i, source) in loaderEdgeCases.enumerated() {
            let difference = loaderDifference(Data(source.utf8), options: options)
            #expect(difference == nil, "case \(i) \(source.prefix(60).debugDescription): \(difference ?? "")")
        }
    }

    @Test("mutated repository policies load identically (fixed seed)")
    func mutations() throws {
        let files = yamlFiles(under: "policies") + yamlFiles(under: "Tests/Corpus")
        let inserts: [[UInt8]] = [
            ":", "-", "&a", "*a", "\t", "{", "}", "[", "]", "\"", "'", "#", "\n", " ", "? ", "!!str ",
            "&a x", "*b", ",", "|", ">", "%", "@", "\u{1}", "é",
        ].map { Array($0.utf8) }
        var rng = SplitMix64(seed: 2024)
        var checked = 0
        for url in files {
            let original = [UInt8](try Data(contentsOf: url))
            guard !original.isEmpty else { continue }
            for _ in 0..<40 {
                var bytes = original
                for _ in 0..<(1 + rng.below(3)) {
                    let at = rng.below(bytes.count)
                    switch rng.below(3) {
                    case 0: bytes.remove(at: at)
                    case 1: bytes.insert(contentsOf: inserts[rng.below(inserts.count)], at: at)
                    default:
                        // Duplicate a line: duplicate keys at every depth.
                        let start = bytes[..<at].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
                        let end = bytes[at...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
                        bytes.insert(contentsOf: Array(bytes[start..<end]), at: end)
                    }
                    if bytes.isEmpty { break }
                }
                let difference = loaderDifference(Data(bytes), path: url.path)
                #expect(
                    difference == nil,
                    "\(url.lastPathComponent) mutant: \(difference ?? "")\n\(String(decoding: bytes, as: UTF8.self))")
                checked += 1
            }
        }
        #expect(checked > 2_000)
    }
}

@Suite("Loader: event-based composer")
struct EventLoaderTests {
    func load(_ source: String, options: LoadOptions = LoadOptions(environment: [:])) -> (YAMLNode?, Diagnostics) {
        var diagnostics = Diagnostics()
        let file = PolicyLoader(options: options).parse(
            data: Data(source.utf8), path: "t.yaml", diagnostics: &diagnostics)
        return (file?.root, diagnostics)
    }

    func position(_ node: YAMLNode?) -> String { node.map { "\($0.location.line):\($0.location.column)" } ?? "nil" }

    @Test("a duplicate key in a nested block mapping is reported at its second occurrence")
    func nestedDuplicate() {
        let (root, diagnostics) = load("version: 1\nscopes:\n  a: {}\n  b:\n    risk: low\n    risk: high\n")
        #expect(root == nil)
        #expect(diagnostics.count == 1)
        let d = diagnostics.first
        #expect(d?.code == .duplicateKey)
        #expect(d?.message == "duplicate key `risk`")
        #expect(d?.location?.line == 6 && d?.location?.column == 5)
        #expect(d?.notes.first?.location?.line == 5 && d?.notes.first?.location?.column == 5)
    }

    @Test("a duplicate key in a flow mapping is reported at the mapping's first key")
    func flowDuplicate() {
        let (root, diagnostics) = load("a: {b: 1, c: 2, b: 3}\n")
        #expect(root == nil)
        #expect(diagnostics.map(\.code) == [.duplicateKey])
        #expect(diagnostics.first?.message == "duplicate key `b`")
        // One line holds both keys, so there is no "second occurrence" line: the first is reported, as before.
        #expect(diagnostics.first?.location?.line == 1 && diagnostics.first?.location?.column == 5)
    }

    @Test("a duplicate key in a large mapping (hashed check) is found")
    func largeDuplicate() {
        let keys = (0..<50).map { "  k\($0): \($0)\n" }.joined()
        let (root, diagnostics) = load("m:\n" + keys + "  k17: again\n")
        #expect(root == nil)
        #expect(diagnostics.first?.message == "duplicate key `k17`")
        #expect(diagnostics.first?.location?.line == 52)
        #expect(diagnostics.first?.notes.first?.location?.line == 19)
    }

    @Test("keys equal as text but not as YAML values are reported without dropping the tree")
    func textEqualKeys() {
        let (root, diagnostics) = load("a: {1: x, \"1\": y}\n")
        #expect(root != nil)
        #expect(diagnostics.map(\.code) == [.duplicateKey])
        #expect(diagnostics.first?.location?.column == 11)
        #expect(diagnostics.first?.notes.first?.location?.column == 5)
    }

    @Test("alias expansion counts toward the node limit")
    func aliasNodeLimit() {
        var options = LoadOptions(environment: [:])
        options.maxNodes = 100
        // 286 nodes once the aliases are expanded (c alone is 1 + 5 * 45), 31 without.
        let source = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b]\n"
        let (root, diagnostics) = load(source, options: options)
        #expect(root == nil)
        #expect(diagnostics.map(\.code) == [.tooManyNodes])
        options.maxNodes = 1_000
        let (expanded, clean) = load(source, options: options)
        #expect(clean.isEmpty)
        #expect(expanded?.mapping?[2].value.sequence?.count == 5)
        #expect(expanded?.mapping?[2].value.sequence?[4].sequence?[3].sequence?.count == 10)
        // The expanded copy keeps the anchored node's location, as Yams' composer gave it.
        #expect(position(expanded?.mapping?[2].value.sequence?[4]) == "2:4")
    }

    @Test("a billion-laughs document is rejected by the default limits, quickly")
    func billionLaughs() throws {
        let url = loaderRepoRoot.appendingPathComponent("policies/broken/SG008-too-many-nodes.yaml")
        var diagnostics = Diagnostics()
        let clock = ContinuousClock()
        let start = clock.now
        let file = PolicyLoader(options: LoadOptions(environment: [:]))
            .parse(data: try Data(contentsOf: url), path: url.path, diagnostics: &diagnostics)
        #expect(file?.root == nil)
        #expect(diagnostics.map(\.code) == [.tooManyNodes])
        #expect(clock.now - start < .seconds(30))  // a bound against a hang, not a timing assertion
    }

    @Test("an alias key that repeats an anchored key is a duplicate")
    func aliasKeyDuplicate() {
        let (root, diagnostics) = load("m:\n  &k a: 1\n  *k : 2\n")
        #expect(root == nil)
        #expect(diagnostics.map(\.code) == [.duplicateKey])
    }

    @Test("scalars in block and flow style keep their 1-based line and column")
    func locations() {
        let source = """
            version: 1
            tools:
              read: {requires: ["a:b", 'c'], description: "text"}
              list:
                - x
                -   "y"
              é: [日本, z]

            """
        let (root, diagnostics) = load(source)
        #expect(diagnostics.isEmpty)
        let tools = root?.mapping?[1].value
        #expect(position(root) == "1:1")
        #expect(position(root?.mapping?[0].key) == "1:1")
        #expect(position(root?.mapping?[0].value) == "1:10")
        #expect(position(tools) == "3:3")
        let read = tools?.mapping?[0].value
        #expect(position(read) == "3:9")
        #expect(position(read?.mapping?[0].key) == "3:10")
        #expect(position(read?.mapping?[0].value) == "3:20")
        #expect(position(read?.mapping?[0].value.sequence?[0]) == "3:21")
        #expect(position(read?.mapping?[0].value.sequence?[1]) == "3:28")
        #expect(position(read?.mapping?[1].value) == "3:47")
        let list = tools?.mapping?[1].value
        #expect(position(list) == "5:5")
        #expect(position(list?.sequence?[1]) == "6:9")
        #expect(list?.sequence?[1].string == "y")
        let accented = tools?.mapping?[2]
        #expect(position(accented?.key) == "7:3")
        // Columns count characters, not bytes: `é` is two bytes, `日本` six.
        #expect(position(accented?.value) == "7:6")
        #expect(position(accented?.value.sequence?[1]) == "7:11")
    }

    @Test("plain scalars keep YAML's typing: null, booleans, numbers; quoted ones are strings")
    func typing() {
        let (root, _) = load("a: [~, null, '', true, 'true', 1.5e3, \"2\", 0x10, yes, .inf]\n")
        let items = root?.mapping?[0].value.sequence.map(Array.init) ?? []
        #expect(
            items.map(\.typeName) == [
                "null", "null", "string", "boolean", "string", "number", "string",
                "string", "string", "string",
            ])
    }

    @Test("the substitution check finds exactly `${` and `$$`")
    func substitutionScan() {
        #expect(TreeBuilder.needsSubstitution("a${B}"))
        #expect(TreeBuilder.needsSubstitution("$$"))
        #expect(TreeBuilder.needsSubstitution("x$${y"))
        #expect(!TreeBuilder.needsSubstitution("cost $5"))
        #expect(!TreeBuilder.needsSubstitution("a$"))
        #expect(!TreeBuilder.needsSubstitution("{$}"))
        #expect(!TreeBuilder.needsSubstitution(""))
    }
}
