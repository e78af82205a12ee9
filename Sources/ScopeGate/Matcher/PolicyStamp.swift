import Foundation

/// Stamps unique to each compiled value (see ``CompiledPolicy/stamp``).
enum PolicyStamp {
    private static let counter = Counter()
    static func next() -> UInt64 { counter.next() }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value: UInt64 = 0
        func next() -> UInt64 {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return value
        }
    }
}
