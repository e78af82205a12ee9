import Foundation

/// Where a bundle source gets time: the wall clock of `scopegate_policy_last_activation_timestamp_seconds`, the
/// waits between polls, and the random draw of the jitter. Tests inject one that records the waits and returns
/// at once, so a poll loop runs without sleeping.
///
/// ```swift
/// struct Immediate: BundleSourceClock {                 // a test clock: no waiting, no jitter
///     func now() -> Date { Date(timeIntervalSince1970: 1_800_000_000) }
///     func sleep(for duration: Duration) async throws { try Task.checkCancellation() }
///     func draw() -> Double { 0.5 }
/// }
/// ```
public protocol BundleSourceClock: Sendable {
    /// The current time.
    func now() -> Date
    /// Waits `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
    /// A uniform random number in `0..<1` (the jitter).
    func draw() -> Double
}

/// The system's clock: `Date()`, `Task.sleep`, `Double.random`.
///
/// ```swift
/// let source = try await BundlePolicySource.start(configuration, clock: SystemBundleSourceClock())
/// ```
public struct SystemBundleSourceClock: BundleSourceClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
    public func draw() -> Double { Double.random(in: 0..<1) }
}
