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

    /// Installs `action` for `SIGHUP`, and returns once a `SIGHUP` sent after it will run `action`; the action runs
    /// on a serial dispatch queue of its own. Not a global queue: those run on a pool of about one thread per core,
    /// and with every thread of it busy (blocking work elsewhere in the process) a signal's action waited for one
    /// to free up, or never ran. A queue of its own targets the pool that adds a thread when none is free.
    ///
    /// On Linux the dispatch library registers a signal source on its own thread, after `resume()` returns, and
    /// only then installs its handler for the signal; a `SIGHUP` before that meets the ignore set here (so that it
    /// cannot terminate the process) and is lost, hence the wait for the registration (at most five seconds).
    /// The ignore is set only over the default action: the dispatch library installs its handler once per
    /// process, so setting the ignore again for a later source would leave every later `SIGHUP` ignored.
    public init(_ action: @escaping @Sendable () -> Void) {
        var current = sigaction()
        if sigaction(SIGHUP, nil, &current) != 0 || Self.isDefault(current) { signal(SIGHUP, SIG_IGN) }
        let queue = DispatchQueue(label: "scopegate.hangup")
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        source.setEventHandler(handler: action)
        let registered = DispatchSemaphore(value: 0)
        source.setRegistrationHandler { registered.signal() }
        source.resume()
        _ = registered.wait(timeout: .now() + .seconds(5))
        self.source = LockedValue(source)
    }

    /// Whether `action` is the signal's default action (`SIG_DFL`, the null handler).
    private static func isDefault(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
            let handler = action.__sigaction_handler.sa_handler
        #else
            let handler = action.__sigaction_u.__sa_handler
        #endif
        return handler == nil
    }

    /// Stops running the action (`SIGHUP` stays ignored).
    public func cancel() {
        source.withLock {
            $0?.cancel()
            $0 = nil
        }
    }
}
