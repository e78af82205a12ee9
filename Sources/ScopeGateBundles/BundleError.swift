import ScopeGate

/// Why a policy bundle could not be built, read, verified, signed or extracted.
///
/// Errors are values: ``Code`` is an open set of stable ids (`SGB01` … `SGB19`, listed in docs/bundles.md), so a
/// new reason never breaks a client that switches over the ones it knows. ``message`` is lowercase, names in
/// backticks, and never echoes more than a few sanitized characters of the bundle's own bytes.
///
/// ```swift
/// do {
///     let bundle = try PolicyBundle.open(bytes, key: key)
///     print("revision", bundle.revision)
/// } catch {
///     metrics.increment(error.code.id)   // `SGB06` (a file's hash differs), `SGB10` (wrong key), …
///     print(error)                       // `SGB06: file `tools.yaml` does not match its hash in the manifest`
/// }
/// ```
public struct BundleError: CodedError {
    /// A stable reason identifier. Compare codes, not messages.
    ///
    /// ```swift
    /// if error.code == .badSignature || error.code == .unsigned { alert("bundle not from our signer") }
    /// ```
    public typealias Code = ErrorCode<BundleError>

    /// The stable reason.
    public let code: Code
    /// A short, lowercase explanation.
    public let message: String
    /// What to do about it, when there is something to say.
    public let help: String?
    /// The policy's diagnostics, for ``Code/policyErrors`` (empty otherwise).
    public let diagnostics: Diagnostics
    /// The policy's source text by path, to render ``diagnostics`` with carets.
    public let sources: [String: String]

    init(
        _ code: Code, _ message: String, help: String? = nil, diagnostics: Diagnostics = Diagnostics(),
        sources: [String: String] = [:]
    ) {
        self.code = code
        self.message = message
        self.help = help
        self.diagnostics = diagnostics
        self.sources = sources
    }

    /// Quotes untrusted text for a message: at most 60 printable ASCII characters, backquoted.
    static func quote(_ text: some StringProtocol) -> String { quoted(text, limit: 60) }
}

extension ErrorCode where Owner == BundleError {
    /// Not a bundle: not a POSIX ustar archive, a bad header checksum, a truncated entry, trailing data.
    public static let malformedArchive = Self("SGB01")
    /// The archive is over a limit of ``BundleLimits`` (its size, an entry's size, the number of entries).
    public static let tooLarge = Self("SGB02")
    /// An entry that is not a plain file at a safe relative path: absolute, `..`, empty or `.` components,
    /// control characters, links, directories, devices, extension headers.
    public static let unsafeEntry = Self("SGB03")
    /// Two entries of the archive have the same path.
    public static let duplicateEntry = Self("SGB04")
    /// `.manifest` is missing or is not a valid manifest (JSON shape, revision, root, file hashes).
    public static let badManifest = Self("SGB05")
    /// A file's bytes do not match the SHA-256 the manifest lists for it.
    public static let hashMismatch = Self("SGB06")
    /// The manifest lists a file the archive does not hold.
    public static let missingFile = Self("SGB07")
    /// The archive holds a file the manifest does not list.
    public static let extraFile = Self("SGB08")
    /// A verification key was given but the bundle carries no signature.
    public static let unsigned = Self("SGB09")
    /// No signature of the bundle verifies with the given key (a wrong key, or a changed signature).
    public static let badSignature = Self("SGB10")
    /// A signature verifies, but over different manifest bytes: the manifest was changed after signing.
    public static let manifestChanged = Self("SGB11")
    /// The signatures use an algorithm other than `EdDSA` (Ed25519) or `ES256` (P-256), `none` included, or
    /// list `crit` extensions.
    public static let unsupportedAlgorithm = Self("SGB12")
    /// `.signatures.json` is not `{"signatures": ["<compact JWS>", …]}`, or a JWS in it is malformed.
    public static let badSignatures = Self("SGB13")
    /// A key is unreadable, not PEM, or not an Ed25519 or P-256 key of the expected kind (private/public).
    public static let badKey = Self("SGB14")
    /// The policy has errors; ``BundleError/diagnostics`` holds them.
    public static let policyErrors = Self("SGB15")
    /// A policy file (the root's `include:`s, or a file given to build) lies outside the root's directory.
    public static let outsideRoot = Self("SGB16")
    /// An input of `build` cannot be used: no root policy, an unreadable file, a path that is too long or
    /// unsafe, a bad revision.
    public static let badInput = Self("SGB17")
    /// The bundle cannot be written out: the target directory is not empty, or a write failed.
    public static let extractFailed = Self("SGB18")
    /// The manifest's `format` is one this version does not read.
    public static let unsupportedFormat = Self("SGB19")

    /// Every code, in order (each has a row in docs/bundles.md; a test checks it).
    static let all: [Self] = [
        .malformedArchive, .tooLarge, .unsafeEntry, .duplicateEntry, .badManifest, .hashMismatch, .missingFile,
        .extraFile, .unsigned, .badSignature, .manifestChanged, .unsupportedAlgorithm, .badSignatures, .badKey,
        .policyErrors, .outsideRoot, .badInput, .extractFailed, .unsupportedFormat,
    ]
}
