import Foundation

extension PolicyBundle {
    /// Writes the policy files under `directory` (created if missing; it must otherwise be empty, so no file of
    /// another revision can be picked up by an `include:`) and returns the root policy's path, ready for
    /// ``ScopeGate/PolicyCompiler/compile(path:)``. Only files are written; `.manifest` and `.signatures.json`
    /// stay in the bundle.
    ///
    /// ```swift
    /// let root = try bundle.extract(to: "/var/lib/scopegate/rev-\(bundle.revision)")
    /// let policy = try PolicyCompiler().compile(path: root).compiled()
    /// ```
    public func extract(to directory: String) throws(BundleError) -> String {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw BundleError(.extractFailed, "`\(directory)` exists and is not a directory")
            }
            let contents = (try? manager.contentsOfDirectory(atPath: directory)) ?? ["?"]
            guard contents.isEmpty else {
                throw BundleError(
                    .extractFailed, "the directory `\(directory)` is not empty",
                    help: "extract each revision into a new directory")
            }
        }
        let base = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try manager.createDirectory(at: base, withIntermediateDirectories: true)
            for file in files {
                if let problem = BundlePath.problem(file.path) {
                    throw BundleError(.unsafeEntry, "refusing to write \(BundleError.quote(file.path)): \(problem)")
                }
                let target = base.appendingPathComponent(file.path)
                try manager.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.bytes).write(to: target, options: .withoutOverwriting)
            }
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError(
                .extractFailed, "cannot write the bundle to `\(directory)`: \(error.localizedDescription)")
        }
        return base.appendingPathComponent(manifest.root).path
    }
}
