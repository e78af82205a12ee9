import Dispatch

/// Runs work that holds its thread for a while (compiling a policy: tens to hundreds of milliseconds for a large
/// one) on a thread of its own, and waits for it without holding the caller's. The gateway runs Swift's tasks on
/// SwiftNIO's event loops, where such work would stall every connection of the loop it ran on.
///
/// The work runs on one serial queue, one item at a time: however many reloads and bundle activations come at
/// once, they take one Dispatch thread, and the global queue stays free for what else runs on it (the `SIGHUP`
/// handler, ``HangupSignal``).
///
/// ```swift
/// let outcome = await BlockingWork.run { store.reload(path: path) }
/// ```
package enum BlockingWork {
    private static let queue = DispatchQueue(label: "scopegate.blocking-work")

    package static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work()) }
        }
    }
}
