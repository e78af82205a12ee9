import Foundation
import ScopeGate

/// What a bundle holds: its revision, its root policy, when it was built, and the SHA-256 of every file.
///
/// Stored as `.manifest` inside the bundle, in one canonical JSON form (compact, keys sorted, ``encoded()``), so
/// the same manifest is always the same bytes: those bytes are what a signature covers.
///
/// ```swift
/// let manifest = bundle.manifest
/// print(manifest.revision, manifest.root, manifest.built)
/// for (path, sha256) in manifest.files.sorted(by: { $0.key < $1.key }) { print(sha256, path) }
/// ```
public struct BundleManifest: Sendable, Codable, Equatable {
    /// The manifest format this version writes and reads.
    public static let currentFormat = 1

    /// The manifest format (``currentFormat``).
    public var format: Int
    /// The revision: given to `build`, or the SHA-256 (hex) of the root's path and the file hashes.
    public var revision: String
    /// The root policy's path inside the bundle (the file a replica compiles; the others are its includes).
    public var root: String
    /// When the bundle was built, in whole seconds (RFC 3339, UTC, in the JSON).
    public var built: Date
    /// Every file of the bundle: its path inside the bundle → the SHA-256 of its bytes, lowercase hex.
    public var files: [String: String]

    /// Creates a manifest; `built` is truncated to whole seconds, as the JSON form keeps it.
    public init(
        revision: String, root: String, built: Date, files: [String: String], format: Int = Self.currentFormat
    ) {
        self.format = format
        self.revision = revision
        self.root = root
        self.built = Date(timeIntervalSince1970: (built.timeIntervalSince1970).rounded(.down))
        self.files = files
    }

    /// The canonical JSON bytes: compact, keys sorted, `built` as RFC 3339 UTC.
    public func encoded() -> [UInt8] {
        var fileObject: [String: JSONValue] = [:]
        for (path, hash) in files { fileObject[path] = .string(hash) }
        let value = JSONValue.object([
            "format": .number(Decimal(format)),
            "revision": .string(revision),
            "root": .string(root),
            "built": .string(Self.rfc3339(built)),
            "files": .object(fileObject),
        ])
        return Array(value.jsonText.utf8)
    }

    /// Reads and checks a manifest: the JSON shape, the format, a revision that is safe to print, a root that is
    /// one of the files, safe file paths and 64-digit lowercase hex hashes.
    public static func decode(_ bytes: [UInt8]) throws(BundleError) -> BundleManifest {
        let parsed: JSONValue
        do {
            parsed = try bytes.withUnsafeBufferPointer { buffer throws(JSONParser.Failure) in
                try JSONParser(maxDepth: 4).parse(buffer)
            }
        } catch {
            throw BundleError(.badManifest, "`.manifest` is not valid JSON: \(error)")
        }
        guard case .object(let object) = parsed else {
            throw BundleError(.badManifest, "`.manifest` is not a JSON object")
        }
        guard case .number(let formatNumber) = object["format"], let format = Int(formatNumber.description) else {
            throw BundleError(.badManifest, "`.manifest` has no integer `format`")
        }
        guard format == currentFormat else {
            throw BundleError(
                .unsupportedFormat, "bundle format \(format) is not supported (this version reads \(currentFormat))",
                help: "build the bundle with a matching `scopegate bundle build`")
        }
        let known: Set<String> = ["format", "revision", "root", "built", "files"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw BundleError(.badManifest, "`.manifest` has an unknown field \(BundleError.quote(unknown))")
        }
        guard case .string(let revision) = object["revision"] else {
            throw BundleError(.badManifest, "`.manifest` has no string `revision`")
        }
        if let problem = Self.revisionProblem(revision) {
            throw BundleError(.badManifest, "`.manifest` revision \(BundleError.quote(revision)) \(problem)")
        }
        guard case .string(let builtText) = object["built"], let built = Self.parseRFC3339(builtText) else {
            throw BundleError(.badManifest, "`.manifest` has no RFC 3339 UTC `built` time")
        }
        guard case .object(let fileValues) = object["files"] else {
            throw BundleError(.badManifest, "`.manifest` has no `files` object")
        }
        var files: [String: String] = [:]
        for (path, value) in fileValues {
            if let problem = BundlePath.problem(path) {
                throw BundleError(
                    .unsafeEntry, "`.manifest` lists the unsafe path \(BundleError.quote(path)): \(problem)")
            }
            guard case .string(let hash) = value, SHA256Hex.isValid(hash) else {
                throw BundleError(
                    .badManifest, "`.manifest` hash of \(BundleError.quote(path)) is not 64 lowercase hex digits")
            }
            files[path] = hash
        }
        guard case .string(let root) = object["root"], files[root] != nil else {
            throw BundleError(.badManifest, "`.manifest` `root` is missing or not one of its `files`")
        }
        return BundleManifest(revision: revision, root: root, built: built, files: files, format: format)
    }

    /// Why `revision` cannot be a revision (it flows into logs, metric labels and file names), or `nil`.
    static func revisionProblem(_ revision: String) -> String? {
        if revision.isEmpty { return "is empty" }
        if revision.utf8.count > 128 { return "is longer than 128 characters" }
        let allowed = revision.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || Array("._-+:@".utf8).contains(byte)
        }
        return allowed ? nil : "may hold only letters, digits and `._-+:@`"
    }

    /// `2026-12-05T13:56:43Z`.
    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// Parses an RFC 3339 time in UTC (`Z`), whole seconds.
    static func parseRFC3339(_ text: String) -> Date? {
        guard text.utf8.count == 20, text.hasSuffix("Z") else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
