import Foundation

/// The outcome of compiling a policy: the validated model (when there are no errors), every diagnostic
/// sorted by location, and the source text of each loaded file (for rendering carets).
///
/// ```swift
/// let result = PolicyCompiler().compile(path: "policy.yaml")
/// if result.diagnostics.hasErrors { print(result.diagnostics.map(\.description)) }
/// let policy = try result.compiled()   // throws PolicyError when there are errors
/// ```
public struct CompileResult: Sendable {
    /// The validated model; `nil` when any error was found.
    public let model: PolicyModel?
    /// All diagnostics of all passes, sorted by location.
    public let diagnostics: Diagnostics
    /// Source text by file path, for ``DiagnosticRenderer``.
    public let sources: [String: String]
    /// The lowering the analyse pass made of `model`, so ``compiled()`` does not lower a second time.
    let lowered: CompiledPolicy?

    init(model: PolicyModel?, diagnostics: Diagnostics, sources: [String: String], lowered: CompiledPolicy? = nil) {
        self.model = model
        self.diagnostics = diagnostics
        self.sources = sources
        self.lowered = model == nil ? nil : lowered
    }

    /// The compiled matcher, or a ``PolicyError`` carrying every diagnostic.
    public func compiled() throws(PolicyError) -> CompiledPolicy {
        guard let model else { throw PolicyError(diagnostics: diagnostics) }
        if let lowered { return CompiledPolicy(reusing: lowered, model: model) }
        return CompiledPolicy(model: model)
    }
}

/// Compiles policy files through named passes — load, decode, resolve, hierarchy, tools, analyse — each adding
/// to one diagnostics collection, never stopping at the first error.
///
/// ```swift
/// let compiler = PolicyCompiler(options: LoadOptions(environment: [:]))
/// let policy = try compiler.compile(source: "version: 1\nscopes: { read: {} }\ntools: { list: read }\n", name: "inline.yaml")
///     .compiled()
/// ```
public struct PolicyCompiler: Sendable {
    public var options: LoadOptions

    /// Creates a compiler with the given load limits and environment.
    public init(options: LoadOptions = LoadOptions()) { self.options = options }

    /// Loads and compiles the policy rooted at `path` (and everything it includes). `path` is the root file, or a
    /// directory holding it as `policy.yaml` or `policy.yml` (``PolicyPath``).
    public func compile(path: String) -> CompileResult {
        var state = CompilerState(options: options)
        guard let root = PolicyPath.rootFile(of: path) else {
            state.diagnostics.append(
                Diagnostic(
                    .unreadableFile,
                    "the directory `\(path)` has no `\(PolicyPath.rootFileNames.joined(separator: "` or `"))`",
                    at: SourceLocation(file: path, line: 1, column: 1),
                    help: "name the root policy file, or put it in the directory as `policy.yaml`"))
            return state.run()
        }
        let loader = PolicyLoader(options: options)
        state.loadTree(rootPath: root) { path, from, diagnostics in
            loader.read(path: path, includedFrom: from, diagnostics: &diagnostics)
        }
        return state.run()
    }

    /// Compiles a policy given as text. `name` is used in locations; includes resolve relative to it.
    public func compile(source: String, name: String = "<policy>") -> CompileResult {
        var state = CompilerState(options: options)
        let loader = PolicyLoader(options: options)
        state.loadTree(rootPath: name) { path, from, diagnostics in
            if path == name, from == nil {
                return loader.parse(data: Data(source.utf8), path: name, diagnostics: &diagnostics)
            }
            return loader.read(path: path, includedFrom: from, diagnostics: &diagnostics)
        }
        return state.run()
    }
}

/// Mutable state threaded through the passes.
struct CompilerState {
    let options: LoadOptions
    var diagnostics = Diagnostics()
    var files: [LoadedFile] = []
    var declarations: [FileDeclarations] = []
    /// Whether the root file held a YAML document (its tree is dropped after decoding).
    var rootHasDocument = false
    /// The model lowered by the analyse pass (only when no error was found before it).
    var lowered: CompiledPolicy?
    var model = PolicyModel(
        files: [], contentHash: "", resource: nil, tokens: nil, scopes: [], tools: [], methods: [],
        resources: [], prompts: [], clients: [], audit: AuditConfig(), scopeIndex: [:], toolIndex: [:])

    init(options: LoadOptions) { self.options = options }

    /// Pass 0 + 1: load the root file and its includes (depth first, cycles reported), decoding each.
    mutating func loadTree(
        rootPath: String,
        read: (String, SourceLocation?, inout Diagnostics) -> LoadedFile?
    ) {
        var stack: [String] = []
        var done = Set<String>()
        func canonical(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
        func visit(_ path: String, from: SourceLocation?) {
            let key = canonical(path)
            if stack.contains(key) {
                let cycle = (stack.drop { $0 != key } + [key]).map { URL(fileURLWithPath: $0).lastPathComponent }
                diagnostics.append(
                    Diagnostic(
                        .includeCycle, "include cycle: \(cycle.joined(separator: " → "))",
                        at: from, help: "remove one of the `include:` entries that close the cycle"))
                return
            }
            if done.contains(key) { return }
            if files.count >= options.maxFiles {
                diagnostics.append(
                    Diagnostic(
                        .includeNotFound, "more than \(options.maxFiles) included files", at: from,
                        help: "merge small files; the include graph is limited"))
                return
            }
            guard var file = read(path, from, &diagnostics) else { return }
            stack.append(key)
            var decoder = DecodePass(path: path)
            let decl = decoder.decodeFile(file.root)
            // The YAML tree is not read after decoding: dropping it here, rather than when the compile ends,
            // takes it out of the compile's peak memory (it is several times the size of the file).
            if files.isEmpty { rootHasDocument = file.root != nil }
            file.root = nil
            files.append(file)
            diagnostics.append(contentsOf: decoder.diagnostics)
            declarations.append(decl)
            let base = URL(fileURLWithPath: path).deletingLastPathComponent()
            for (include, loc) in decl.includes {
                let target =
                    include.hasPrefix("/")
                    ? include
                    : (path.hasPrefix("/")
                        ? base.appendingPathComponent(include).path
                        : Self.join(directory: (path as NSString).deletingLastPathComponent, include))
                visit(target, from: loc)
            }
            stack.removeLast()
            done.insert(key)
        }
        visit(rootPath, from: nil)
    }

    static func join(directory: String, _ name: String) -> String {
        directory.isEmpty ? name : (directory as NSString).appendingPathComponent(name)
    }

    mutating func run() -> CompileResult {
        // An empty root file (nothing but comments or whitespace, e.g. truncated to zero by a writer) is an error
        // too, not a policy that denies everything: a reload must keep the last good policy instead.
        if let root = declarations.first, root.version == nil, rootHasDocument || !diagnostics.hasErrors {
            diagnostics.append(
                Diagnostic(
                    .missingKey, "the policy has no `version`",
                    at: SourceLocation(file: root.path, line: 1, column: 1), help: "add `version: 1` at the top"))
        }
        ResolvePass.run(&self)
        HierarchyPass.run(&self)
        ToolsPass.run(&self)
        AnalysePass.run(&self)
        var hasher = FNV1a()
        for file in files { hasher.combine(utf8: file.text) }
        model.files = files.map(\.path)
        model.contentHash = String(hasher.value, radix: 16)
        let sorted = diagnostics.sorted()
        var sources: [String: String] = [:]
        for file in files { sources[file.path] = file.text }
        return CompileResult(
            model: sorted.hasErrors || files.isEmpty ? nil : model, diagnostics: sorted, sources: sources,
            lowered: lowered)
    }

    mutating func report(
        _ code: Diagnostic.Code, _ message: String, at loc: SourceLocation?, help: String,
        notes: [Diagnostic.Note] = []
    ) {
        diagnostics.append(Diagnostic(code, message, at: loc, help: help, notes: notes))
    }
}
