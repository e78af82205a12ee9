import Foundation
import ScopeGate

extension PolicyBundle {
    /// Builds an unsigned bundle from a policy.
    ///
    /// `paths[0]` is the root policy (a file, or a directory holding `policy.yaml` or `policy.yml`). It is compiled
    /// first — a policy with errors is refused with ``BundleError/Code/policyErrors`` and its diagnostics — and
    /// every file it loads through `include:` goes into the bundle, by its path relative to the root's directory
    /// (an include that leaves that directory is refused with ``BundleError/Code/outsideRoot``). Later paths add
    /// files the policy does not include (its policy tests, say): a file as it is, a directory with every
    /// `*.yaml`/`*.yml` file under it (hidden entries and symbolic links skipped); they too must lie under the
    /// root's directory.
    ///
    /// `revision` defaults to the SHA-256 (hex) of the root's path and the file hashes, so it changes exactly
    /// when the content does. `now` is the build time (whole seconds); the same inputs and `now` give the same
    /// archive bytes.
    ///
    /// ```swift
    /// let bundle = try PolicyBundle.build(policy: ["policies/climate.yaml"], revision: "v42", now: Date())
    /// try Data(bundle.archive()).write(to: URL(fileURLWithPath: "climate.bundle"))
    /// ```
    public static func build(
        policy paths: [String], revision: String? = nil, now: Date, options: LoadOptions = LoadOptions()
    ) throws(BundleError) -> PolicyBundle {
        guard let first = paths.first else { throw BundleError(.badInput, "no policy given") }
        let rootPath = try rootPolicy(first)
        let result = PolicyCompiler(options: options).compile(path: rootPath)
        guard let model = result.model else {
            throw BundleError(
                .policyErrors, "the policy `\(rootPath)` has errors",
                help: "run `scopegate lint \(rootPath)` and fix them", diagnostics: result.diagnostics,
                sources: result.sources)
        }
        let base = standardized((rootPath as NSString).deletingLastPathComponent)
        var files: [String: [UInt8]] = [:]
        for path in model.files {
            guard let text = result.sources[path] else {
                throw BundleError(.badInput, "the compiler kept no text for `\(path)`")
            }
            files[try relative(path, to: base, included: true)] = Array(text.utf8)
        }
        let root = try relative(model.files.first ?? rootPath, to: base, included: true)
        for extra in paths.dropFirst() {
            for path in try inputFiles(extra) {
                let name = try relative(path, to: base, included: false)
                if files[name] != nil { continue }
                files[name] = try BundleIO.read(
                    path: path, limit: options.maxFileBytes, code: .badInput, what: "file")
                if (files[name]?.count ?? 0) > options.maxFileBytes {
                    throw BundleError(.badInput, "`\(path)` is over the limit of \(options.maxFileBytes) bytes")
                }
            }
        }
        let limit = BundleLimits().maxEntries - 2
        guard files.count <= limit else {
            throw BundleError(.badInput, "the bundle would hold \(files.count) files, over the limit of \(limit)")
        }
        for name in files.keys.sorted(by: BundlePath.precedes) {
            if let problem = BundlePath.problem(name) {
                throw BundleError(.badInput, "cannot store \(BundleError.quote(name)) in a bundle: \(problem)")
            }
        }
        let bundleFiles = files.map { BundleFile(path: $0.key, bytes: $0.value) }
        var hashes: [String: String] = [:]
        for file in bundleFiles { hashes[file.path] = file.sha256 }
        let contentRevision = SHA256Hex.digest(
            JSONValue.object(["root": .string(root), "files": .object(hashes.mapValues { .string($0) })]).jsonText.utf8)
        if let revision, let problem = BundleManifest.revisionProblem(revision) {
            throw BundleError(.badInput, "revision \(BundleError.quote(revision)) \(problem)")
        }
        let manifest = BundleManifest(revision: revision ?? contentRevision, root: root, built: now, files: hashes)
        return PolicyBundle(manifest: manifest, files: bundleFiles, signatures: [], manifestBytes: manifest.encoded())
    }

    /// The root policy file for `path`: the file itself, or a directory's `policy.yaml` / `policy.yml`.
    static func rootPolicy(_ path: String) throws(BundleError) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw BundleError(.badInput, "no such file or directory `\(path)`")
        }
        if let root = PolicyPath.rootFile(of: path) { return root }
        throw BundleError(
            .badInput, "the directory `\(path)` has no `policy.yaml` or `policy.yml`",
            help: "name the root policy file first: `scopegate bundle build DIR/root.yaml DIR -o NAME.bundle`")
    }

    /// A file as it is, or every `*.yaml`/`*.yml` file under a directory (hidden entries and links skipped),
    /// sorted.
    static func inputFiles(_ path: String) throws(BundleError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BundleError(.badInput, "no such file or directory `\(path)`")
        }
        guard isDirectory.boolValue else { return [path] }
        guard
            let walker = FileManager.default.enumerator(
                at: URL(fileURLWithPath: path), includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey],
                options: [.skipsHiddenFiles])
        else { throw BundleError(.badInput, "cannot list the directory `\(path)`") }
        var found: [String] = []
        for case let url as URL in walker {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            guard values?.isRegularFile == true, values?.isSymbolicLink != true,
                ["yaml", "yml"].contains(url.pathExtension)
            else { continue }
            found.append(url.path)
        }
        return found.sorted(by: BundlePath.precedes)
    }

    /// An absolute path with `.` and `..` removed (symbolic links are not followed).
    static func standardized(_ path: String) -> String {
        URL(fileURLWithPath: path.isEmpty ? "." : path).standardizedFileURL.path
    }

    /// `path` relative to `base`, or ``BundleError/Code/outsideRoot``.
    static func relative(_ path: String, to base: String, included: Bool) throws(BundleError) -> String {
        let absolute = standardized(path)
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard absolute.hasPrefix(prefix), absolute.count > prefix.count else {
            throw BundleError(
                .outsideRoot,
                included
                    ? "the policy includes `\(path)`, outside the root policy's directory `\(base)`"
                    : "`\(path)` is outside the root policy's directory `\(base)`",
                help: "a bundle holds the root's directory and below: move the file there, or the root up")
        }
        return String(absolute.dropFirst(prefix.count))
    }
}

/// Bounded reads of files named on the command line or in a configuration.
enum BundleIO {
    /// At most `limit + 1` bytes of `path` (one more than allowed, so the caller can tell "over the limit").
    static func read(path: String, limit: Int, code: BundleError.Code, what: String) throws(BundleError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw BundleError(code, exists ? "cannot read the \(what) `\(path)`" : "no such \(what) `\(path)`")
        }
        defer { try? handle.close() }
        do {
            return Array(try handle.read(upToCount: limit + 1) ?? Data())
        } catch {
            throw BundleError(code, "cannot read the \(what) `\(path)`: \(error.localizedDescription)")
        }
    }
}
