import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The last bundle put in force, kept on disk so that a replica restarted while the bundle server is down
/// still starts with it. One file, `DIR/policy.bundle`, replaced atomically: the bytes go to a temporary file in
/// the same directory, are flushed to disk, then renamed over the old one, so a crash leaves the old bundle or
/// the new one, never a torn file. What is read back is verified again like a download. (The bundle source also
/// writes the revision in force out to `DIR/policy-REVISION/`, the files its rule locations name.)
///
/// ```swift
/// let cache = BundleCache(directory: "/var/cache/scopegate")
/// try cache.write(bytes)          // after a bundle is put in force
/// let saved = cache.read()        // at start, when the server cannot be reached
/// ```
public struct BundleCache: Sendable, Hashable {
    /// The directory (created when missing).
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// The cached bundle's path.
    public var path: String { (directory as NSString).appendingPathComponent("policy.bundle") }

    /// The cached bundle, or nil when there is none or it cannot be read (at most `maxBytes`).
    public func read(maxBytes: Int) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.read(upToCount: maxBytes + 1), !data.isEmpty, data.count <= maxBytes else {
            return nil
        }
        return Array(data)
    }

    /// Replaces the cached bundle with `bytes` (temporary file, `fsync`, `rename`). Throws a message.
    public func write(_ bytes: [UInt8]) throws(BundleSourceError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BundleSourceError(.cacheUnwritable, "cannot create the cache directory `\(directory)`: \(error)")
        }
        let temporary = (directory as NSString).appendingPathComponent(".policy.bundle.\(UUID().uuidString).tmp")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard fd >= 0 else {
            throw BundleSourceError(
                .cacheUnwritable, "cannot write the bundle cache `\(temporary)`: \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            try handle.write(contentsOf: Data(bytes))
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary)
            throw BundleSourceError(.cacheUnwritable, "cannot write the bundle cache `\(temporary)`: \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw BundleSourceError(.cacheUnwritable, "cannot replace the bundle cache `\(path)`: \(reason)")
        }
    }
}
