import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The failure to open an audit log destination.
///
/// ```swift
/// do { _ = try AuditLog.open("/var/log/scopegate/audit.jsonl") } catch { print(error.message) }
/// ```
public struct AuditLogError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// The audit log of a gateway: one JSON line per ``AuditEvent`` (docs/records.md, the record `scopegate suggest`
/// reads), appended to a file or written to stdout (`-`).
///
/// Writing happens off the request path: ``write(_:)`` appends the line to a buffer under a lock and returns;
/// one writer thread empties the buffer with as few `write(2)` calls as it can. When the destination cannot keep
/// up and `maxPendingBytes` are waiting, further events are dropped and counted
/// (`scopegate_audit_events_dropped_total`) rather than holding requests or memory without bound.
/// ``reopen()`` reopens a file destination before the next write (log rotation on `SIGHUP`); ``close()``
/// writes what is buffered and stops the writer.
///
/// ```swift
/// let audit = try AuditLog.open("-")          // or a path, appended to
/// audit.write(event)
/// await audit.close()                          // on shutdown, after the server has drained
/// ```
public final class AuditLog: @unchecked Sendable {
    // State shared by `write` (any thread) and the writer thread, guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var closing = false
    private var stopped = false
    private var reopenRequested = false
    private var closeWaiters: [CheckedContinuation<Void, Never>] = []
    private var descriptor: Int32
    // Immutable after init.
    private let path: String?
    private let maxPendingBytes: Int
    private let metrics: ScopeGateMetrics

    /// Opens `destination`: `-` for stdout, else a file created if needed (mode 0640) and appended to.
    public static func open(
        _ destination: String, maxPendingBytes: Int = 16 << 20, metrics: ScopeGateMetrics = .init()
    ) throws(AuditLogError) -> AuditLog {
        if destination == "-" {
            return AuditLog(descriptor: STDOUT_FILENO, path: nil, maxPendingBytes: maxPendingBytes, metrics: metrics)
        }
        let descriptor = try openFile(destination)
        return AuditLog(descriptor: descriptor, path: destination, maxPendingBytes: maxPendingBytes, metrics: metrics)
    }

    init(descriptor: Int32, path: String?, maxPendingBytes: Int, metrics: ScopeGateMetrics) {
        self.descriptor = descriptor
        self.path = path
        self.maxPendingBytes = maxPendingBytes
        self.metrics = metrics
        let thread = Thread { [self] in writerLoop() }
        thread.name = "scopegate-audit"
        thread.start()
    }

    static func openFile(_ path: String) throws(AuditLogError) -> Int32 {
        let descriptor = systemOpen(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw AuditLogError(message: "cannot open the audit log `\(path)`: \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    /// Queues one event (one line). Never blocks on the destination.
    public func write(_ event: AuditEvent) {
        var line = Array(event.json.utf8)
        line.append(0x0A)
        condition.lock()
        let accepted = !closing && pending.count + line.count <= maxPendingBytes
        if accepted {
            pending.append(contentsOf: line)
            condition.signal()
        }
        condition.unlock()
        if !accepted { metrics.auditDropped(1) }
    }

    /// Reopens the file before the next write (after log rotation); no effect on stdout.
    public func reopen() {
        condition.lock()
        reopenRequested = path != nil
        condition.signal()
        condition.unlock()
    }

    /// Writes everything queued, stops the writer and closes the file. Events written after are dropped.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closing = true
            if stopped {
                condition.unlock()
                continuation.resume()
                return
            }
            closeWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !closing && !reopenRequested { condition.wait() }
            let chunk = pending
            pending = []
            let reopening = reopenRequested
            reopenRequested = false
            let finishing = closing && chunk.isEmpty
            condition.unlock()
            if reopening, let path, let fresh = try? Self.openFile(path) {
                systemClose(descriptor)
                descriptor = fresh
            }
            if !chunk.isEmpty { writeAll(chunk) }
            if finishing { break }
        }
        if path != nil { systemClose(descriptor) }
        condition.lock()
        stopped = true
        let waiters = closeWaiters
        closeWaiters = []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
    }

    /// Writes all of `bytes`, retrying short writes and interrupted calls; gives up (dropping the rest, counted)
    /// on any other error, so a full disk never stops the gateway.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = systemWrite(descriptor, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    metrics.auditDropped(buffer[offset...].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) })
                    return
                }
                offset += written
            }
        }
    }
}

// The C functions under names that do not collide with this type's methods.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ descriptor: Int32) { _ = close(descriptor) }
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
