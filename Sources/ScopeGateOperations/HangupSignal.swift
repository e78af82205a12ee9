import Dispatch
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs an action on every `SIGHUP` (the signal's default action, terminating the process, is replaced), until
/// ``cancel()``. The one place a service takes `SIGHUP`: ``PolicyReloader`` reloads on it, the bundle policy
/// source polls on it, and both reopen the audit log after rotation.
///
/// ```swift
/// let hangup = HangupSignal { audit?.reopen() }
/// defer { hangup.cancel() }
/// ```
public final class HangupSignal: Sendable {
    private let source: LockedValue<(any DispatchSourceSignal)?>

    /// Installs `action` for `SIGHUP`; it runs on a serial dispatch queue of its own. Not a global queue: those
    /// run on a pool of about one thread per core, and with every thread of it busy (blocking work elsewhere in
    /// the process) a signal's action waited for one to free up, or never ran. A queue of its own targets the
    /// pool that adds a thread when none is free.
    public init(_ action: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let queue = DispatchQueue(label: "scopegate.hangup")
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler(handler: action)
        source.resume()
        self.source = LockedValue(source)
    }

    /// Stops running the action (`SIGHUP` stays ignored).
    public func cancel() {
        source.withLock {
            $0?.cancel()
            $0 = nil
        }
    }
}
