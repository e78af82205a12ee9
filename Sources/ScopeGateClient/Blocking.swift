import Foundation

/// Runs blocking work (a socket accept loop, the synchronous MCP client) on a thread of its own, so that it never
/// holds one of the few threads of Swift's cooperative pool that other tasks need to make progress.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.start()
        }
    }
}
