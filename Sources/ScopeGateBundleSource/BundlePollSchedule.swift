import Foundation

/// When a bundle source polls next: the configured interval with ±10% jitter (so a fleet started at once does
/// not poll in step), lengthened by the server's `Cache-Control: max-age` within bounds, and backed off
/// exponentially after failures. Pure: the random draw is an argument, so every rule is tested without a clock.
///
/// - After a success (200 or 304): `max-age` when the answer has one, clamped to [interval, 10 × interval] (a
///   server may slow the polling down, never below the operator's interval, and a long cache lifetime such
///   as a CDN's day cannot freeze the policy); otherwise the interval.
/// - After `n` consecutive failed fetches (no answer, or another status than 200 and 304): interval × 2ⁿ, at most ``maxBackoff`` (or the interval, when longer).
/// - Then ±``jitter`` (10%).
///
/// ```swift
/// let schedule = BundlePollSchedule(interval: .seconds(30))
/// schedule.delay(failures: 0, maxAge: nil, draw: 0.5)       // 30 s (a draw of 0.5 is no jitter)
/// schedule.delay(failures: 2, maxAge: nil, draw: 0.5)       // 120 s
/// ```
public struct BundlePollSchedule: Sendable, Hashable {
    /// The delay between polls while all is well.
    public var interval: Duration
    /// The longest delay after failures (default 5 minutes; the interval, when that is longer).
    public var maxBackoff: Duration
    /// How many intervals a `max-age` may stretch a delay to (default 10).
    public var maxAgeIntervals: Int
    /// The jitter, as a fraction of the delay (default 0.1: ±10%).
    public var jitter: Double

    public init(
        interval: Duration = .seconds(30), maxBackoff: Duration = .seconds(300), maxAgeIntervals: Int = 10,
        jitter: Double = 0.1
    ) {
        self.interval = interval
        self.maxBackoff = maxBackoff
        self.maxAgeIntervals = maxAgeIntervals
        self.jitter = jitter
    }

    /// The delay before the next poll, before jitter.
    /// - Parameters:
    ///   - failures: consecutive failed polls so far (0 after a success).
    ///   - maxAge: the last successful answer's `Cache-Control: max-age`.
    public func baseDelay(failures: Int, maxAge: Duration?) -> Duration {
        if failures > 0 {
            let cap = max(maxBackoff, interval)
            var delay = interval
            for _ in 0..<min(failures, 32) {
                delay *= 2
                if delay >= cap { return cap }
            }
            return delay
        }
        guard let maxAge else { return interval }
        return min(max(maxAge, interval), interval * max(maxAgeIntervals, 1))
    }

    /// The delay before the next poll: ``baseDelay(failures:maxAge:)`` scaled by `1 + jitter × (2 × draw − 1)`,
    /// to the millisecond.
    /// - Parameter draw: a uniform random number in `0..<1` (0.5: no jitter).
    public func delay(failures: Int, maxAge: Duration?, draw: Double) -> Duration {
        let unit = min(max(draw, 0), 1)
        let base = baseDelay(failures: failures, maxAge: maxAge).components
        let milliseconds = Double(base.seconds) * 1000 + Double(base.attoseconds) / 1e15
        let jittered = (milliseconds * (1 + jitter * (2 * unit - 1))).rounded()
        return .milliseconds(Int64(min(max(jittered, 0), 1e15)))
    }

    /// The `max-age` of a `Cache-Control` header value, in seconds; nil without one, or with `no-cache` or
    /// `no-store` (which ask for revalidation every time: the interval applies).
    public static func maxAge(cacheControl: String?) -> Duration? {
        guard let cacheControl else { return nil }
        var maxAge: Duration?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces).lowercased()
            }
            switch parts.first {
            case "no-cache", "no-store": return nil
            case "max-age":
                guard parts.count == 2, let seconds = Int64(parts[1].trimmingCharacters(in: ["\""])), seconds >= 0
                else { return nil }
                maxAge = .seconds(seconds)
            default: continue
            }
        }
        return maxAge
    }
}
