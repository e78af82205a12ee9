import ScopeGate

/// Why a bundle policy source could not start, or why one bundle was not put in force.
///
/// Errors are values: ``Code`` is an open set of stable ids (`bundle_source.no_policy`, …); ``message`` is
/// lowercase, for a log line or stderr. Failures after the start are not thrown: they are logged, counted
/// (`scopegate_policy_activation_failures_total{cause}`) and the policy in force stays.
///
/// ```swift
/// do {
///     source = try await BundlePolicySource.start(configuration)
/// } catch {
///     if error.code == .noPolicy { print("refusing to start:", error.message) }     // fail closed
/// }
/// ```
public struct BundleSourceError: CodedError, Hashable {
    /// A stable reason identifier. Compare codes, not messages.
    public typealias Code = ErrorCode<BundleSourceError>

    public let code: Code
    /// What went wrong, lowercase, naming files and URLs in backticks.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == BundleSourceError {
    /// At start: the bundle could not be fetched (or was refused) and the cache holds no usable bundle.
    public static let noPolicy = Self("bundle_source.no_policy")
    /// The bundle server could not be reached, answered another status than 200 or 304, or sent too much.
    public static let fetchFailed = Self("bundle_source.fetch_failed")
    /// The bundle was refused: not a bundle, a tampered file, a bad or missing signature, a wrong key.
    public static let verificationFailed = Self("bundle_source.verification_failed")
    /// The bundle's files could not be written out to compile them.
    public static let extractFailed = Self("bundle_source.extract_failed")
    /// The bundle's policy has errors.
    public static let compileFailed = Self("bundle_source.compile_failed")
    /// The cache directory or file could not be written.
    public static let cacheUnwritable = Self("bundle_source.cache_unwritable")
}
