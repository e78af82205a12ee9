/// Bounds applied to a request before any work that grows with it.
///
/// ```swift
/// let limits = RequestLimits(maxBodyBytes: 256 * 1024, maxBatch: 16, maxDepth: 32)
/// ```
public struct RequestLimits: Sendable, Hashable {
    /// Largest accepted body, in bytes (HTTP 413 above it).
    public var maxBodyBytes: Int
    /// Most messages in a JSON-RPC batch (HTTP 413 above it).
    public var maxBatch: Int
    /// Deepest JSON nesting (a batch array counts as one level).
    public var maxDepth: Int

    public init(maxBodyBytes: Int = 1 << 20, maxBatch: Int = 64, maxDepth: Int = 32) {
        self.maxBodyBytes = maxBodyBytes
        self.maxBatch = maxBatch
        self.maxDepth = maxDepth
    }
}
