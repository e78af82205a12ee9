import Foundation

/// Where a policy is read from: a file, or a directory that holds the root file as `policy.yaml` (or
/// `policy.yml`) beside the files it includes. A directory is how a policy arrives from configuration management,
/// a Kubernetes ConfigMap volume or an extracted bundle; every command and ``PolicyCompiler/compile(path:)`` take
/// either.
///
/// ```swift
/// PolicyPath.rootFile(of: "policies/climate.yaml")   // "policies/climate.yaml"
/// PolicyPath.rootFile(of: "/etc/scopegate")          // "/etc/scopegate/policy.yaml", when it exists
/// ```
public enum PolicyPath {
    /// The names a directory's root policy file may have, in the order they are looked for.
    public static let rootFileNames = ["policy.yaml", "policy.yml"]

    /// The root policy file of `path`: `path` itself when it is not a directory (a missing file is reported by
    /// the loader, which reads it); a directory's `policy.yaml` or `policy.yml`; nil for a directory with
    /// neither.
    public static func rootFile(of path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return path
        }
        for name in rootFileNames {
            let candidate = (path as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return nil
    }
}
