import Foundation
import ScopeGate

/// Bounds on a bundle read from untrusted bytes, checked before the work they bound.
///
/// ```swift
/// var limits = BundleLimits()
/// limits.maxArchiveBytes = 16 << 20
/// let bundle = try PolicyBundle.open(bytes, key: key, limits: limits)
/// ```
public struct BundleLimits: Sendable, Equatable {
    /// Largest archive accepted, in bytes (default 64 MiB).
    public var maxArchiveBytes = 64 << 20
    /// Largest single file accepted, in bytes (default 8 MiB, the policy loader's own file limit).
    public var maxFileBytes = LoadOptions().maxFileBytes
    /// Most entries accepted, `.manifest` and `.signatures.json` included (default 258: the policy loader's 256
    /// files plus those two).
    public var maxEntries = LoadOptions().maxFiles + 2

    /// The default limits.
    public init() {}
}

/// A policy bundle: the files of one policy (its root and every file it includes), a manifest of their hashes,
/// and optionally signatures over that manifest — one file that carries policy and signature together, in the
/// layout of OPA's bundles (`.manifest`, `.signatures.json`), as an uncompressed POSIX tar archive.
///
/// ```swift
/// let bundle = try PolicyBundle.build(policy: ["policies/climate.yaml"], revision: nil, now: Date())
/// let signed = try bundle.signed(with: try BundleSigningKey(pem: privatePEM), keyID: "2026-12")
/// let bytes = signed.archive()                              // serve it; `tar -tf` lists it
///
/// let opened = try PolicyBundle.open(bytes, key: try BundleVerificationKey(pem: publicPEM))
/// let root = try opened.extract(to: "/var/lib/scopegate/rev-\(opened.revision)")
/// let policy = try PolicyCompiler().compile(path: root).compiled()
/// ```
public struct PolicyBundle: Sendable {
    /// The manifest: revision, root, build time, file hashes.
    public let manifest: BundleManifest
    /// The policy files, sorted by path (bytewise UTF-8).
    public let files: [BundleFile]
    /// The signatures, in the order stored (empty when unsigned). Only ``open(_:key:limits:)`` with a key checks
    /// them; without a key they are read for their shape and shown, not trusted.
    public let signatures: [BundleSignature]
    /// The exact `.manifest` bytes the signatures cover.
    let manifestBytes: [UInt8]

    init(manifest: BundleManifest, files: [BundleFile], signatures: [BundleSignature], manifestBytes: [UInt8]) {
        self.manifest = manifest
        self.files = files.sorted { BundlePath.precedes($0.path, $1.path) }
        self.signatures = signatures
        self.manifestBytes = manifestBytes
    }

    /// The bundle's revision (``BundleManifest/revision``).
    public var revision: String { manifest.revision }

    /// Whether the bundle carries at least one signature.
    public var isSigned: Bool { !signatures.isEmpty }

    /// The root policy file.
    public var rootFile: BundleFile? { files.first { $0.path == manifest.root } }

    /// The archive: `.manifest`, then `.signatures.json` when signed, then the files sorted by path; every entry
    /// with mode 0644, uid/gid 0 and mtime 0, so the same bundle is always the same bytes.
    public func archive() -> [UInt8] {
        var entries: [(path: String, bytes: [UInt8])] = [(BundlePath.manifest, manifestBytes)]
        if !signatures.isEmpty { entries.append((BundlePath.signatures, BundleSignature.file(signatures))) }
        for file in files { entries.append((file.path, file.bytes)) }
        return UStar.write(entries)
    }

    /// Reads a bundle from its archive bytes.
    ///
    /// With a `key`, the signatures are checked first, over the exact `.manifest` bytes, before the manifest is
    /// parsed or any file is trusted: an unsigned bundle (``BundleError/Code/unsigned``), no signature that
    /// verifies (``BundleError/Code/badSignature``), an unsupported `alg` (``BundleError/Code/unsupportedAlgorithm``)
    /// or a manifest changed after signing (``BundleError/Code/manifestChanged``) are refused. Then, with or without
    /// a key, every file must match its hash in the manifest, none may be missing and none extra.
    ///
    /// Throws a ``BundleError`` for every failure, garbage bytes and hostile archives included; never traps.
    public static func open(
        _ bytes: [UInt8], key: BundleVerificationKey?, limits: BundleLimits = BundleLimits()
    ) throws(BundleError) -> PolicyBundle {
        let entries = try UStar.read(bytes, limits: limits)
        var manifestBytes: [UInt8]?
        var signaturesBytes: [UInt8]?
        var files: [BundleFile] = []
        for entry in entries {
            switch entry.path {
            case BundlePath.manifest: manifestBytes = entry.bytes
            case BundlePath.signatures: signaturesBytes = entry.bytes
            default: files.append(BundleFile(path: entry.path, bytes: entry.bytes))
            }
        }
        guard let manifestBytes else {
            throw BundleError(
                .badManifest, "the bundle has no `.manifest`",
                help: "build bundles with `scopegate bundle build`")
        }
        let signatures =
            try signaturesBytes.map { bytes throws(BundleError) in try BundleSignature.parse(file: bytes) } ?? []
        if let key {
            try BundleSignature.verify(signatures, manifest: manifestBytes, key: key)
        }
        let manifest = try BundleManifest.decode(manifestBytes)
        try check(files, against: manifest)
        return PolicyBundle(manifest: manifest, files: files, signatures: signatures, manifestBytes: manifestBytes)
    }

    /// Reads a bundle file (at most `limits.maxArchiveBytes` of it) and opens it (``open(_:key:limits:)``).
    public static func open(
        path: String, key: BundleVerificationKey?, limits: BundleLimits = BundleLimits()
    ) throws(BundleError) -> PolicyBundle {
        let bytes = try BundleIO.read(path: path, limit: limits.maxArchiveBytes, code: .badInput, what: "bundle")
        guard bytes.count <= limits.maxArchiveBytes else {
            throw BundleError(.tooLarge, "`\(path)` is over the limit of \(limits.maxArchiveBytes) bytes")
        }
        return try open(bytes, key: key, limits: limits)
    }

    /// Every file listed with its hash, none missing, none extra.
    static func check(_ files: [BundleFile], against manifest: BundleManifest) throws(BundleError) {
        var present = Set<String>()
        for file in files.sorted(by: { BundlePath.precedes($0.path, $1.path) }) {
            guard let expected = manifest.files[file.path] else {
                throw BundleError(
                    .extraFile, "the bundle holds \(BundleError.quote(file.path)), which its manifest does not list")
            }
            guard file.sha256 == expected else {
                throw BundleError(
                    .hashMismatch, "file \(BundleError.quote(file.path)) does not match its hash in the manifest",
                    help: "the bundle was changed after it was built; rebuild it and sign it again")
            }
            present.insert(file.path)
        }
        if let missing = manifest.files.keys.sorted(by: BundlePath.precedes).first(where: { !present.contains($0) }) {
            throw BundleError(
                .missingFile, "the manifest lists \(BundleError.quote(missing)), which the bundle does not hold")
        }
    }
}
