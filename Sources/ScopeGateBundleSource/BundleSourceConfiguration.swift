import Foundation
import ScopeGateBundles

/// What a ``BundlePolicySource`` fetches and how: the bundle URL, the key its signature must verify with, the
/// polling schedule, and the directory the last good bundle is kept in.
///
/// ```swift
/// var configuration = BundleSourceConfiguration(url: URL(string: "https://bundles.example.com/mcp.bundle")!)
/// configuration.key = try BundleVerificationKey(pem: String(contentsOfFile: "bundle-pub.pem", encoding: .utf8))
/// configuration.cacheDirectory = "/var/cache/scopegate"
/// ```
public struct BundleSourceConfiguration: Sendable {
    /// The bundle's URL (`http` or `https`).
    public var url: URL
    /// The public key the bundle's signature must verify with; nil: bundles are not verified (only their file
    /// hashes are checked), which is only safe over a channel that is trusted end to end.
    public var key: BundleVerificationKey?
    /// When to poll (default: every 30 s, ±10%).
    public var schedule: BundlePollSchedule
    /// Where the last good bundle is kept (``BundleCache``); nil: nowhere, so a start needs the server.
    public var cacheDirectory: String?
    /// Bounds on a downloaded bundle.
    public var limits: BundleLimits

    public init(
        url: URL, key: BundleVerificationKey? = nil, interval: Duration = .seconds(30), cacheDirectory: String? = nil
    ) {
        self.url = url
        self.key = key
        self.schedule = BundlePollSchedule(interval: interval)
        self.cacheDirectory = cacheDirectory
        self.limits = BundleLimits()
    }

    /// The cache, when a directory is configured.
    public var cache: BundleCache? { cacheDirectory.map(BundleCache.init(directory:)) }
}
