import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The loopback redirect listener of a native app (RFC 8252 §7.3): a TCP socket on `127.0.0.1` at a port the
/// system picks, which takes the first request (a `/favicon.ico` aside), answers it with a short page, and hands
/// back the URL it was sent to. The caller matches that URL against the redirect URI exactly.
///
/// ```swift
/// let receiver = try LoopbackReceiver()
/// defer { receiver.close() }
/// let redirect = receiver.redirectURI                        // http://127.0.0.1:53124/callback
/// let received = try await receiver.receive(timeout: 300)    // http://127.0.0.1:53124/callback?code=…&state=…
/// ```
public final class LoopbackReceiver: Sendable {
    /// The port the system gave the listener.
    public let port: UInt16
    /// The path of the redirect URI.
    public let path: String
    let socket: Int32
    /// Who closes the socket: the caller's ``close()`` until ``start(timeout:)``, then the accept thread (so its
    /// descriptor number cannot be reused by another socket while the thread still polls it).
    private let lifecycle = LockedValue(Lifecycle.idle)

    enum Lifecycle {
        case idle, accepting, closeRequested, closed
    }

    /// Listens on `127.0.0.1` on an ephemeral port.
    public init(path: String = "/callback") throws(ClientError) {
        self.path = path
        #if canImport(Glibc)
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw ClientError(.http, "cannot open the loopback redirect listener") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let size = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) }
        }
        guard bound == 0, listen(fd, 8) == 0 else {
            _ = Self.closeSocket(fd)
            throw ClientError(.http, "cannot listen on 127.0.0.1 for the redirect")
        }
        var actual = sockaddr_in()
        var length = size
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        socket = fd
        port = UInt16(bigEndian: actual.sin_port)
    }

    /// `http://127.0.0.1:<port><path>`.
    public var redirectURI: String { "http://127.0.0.1:\(port)\(path)" }

    /// Waits up to `timeout` seconds for the redirect and returns the URL it was sent to.
    public func receive(timeout: TimeInterval) async throws(ClientError) -> String {
        try await start(timeout: timeout).value()
    }

    /// Starts accepting now, on a thread of its own, for up to `timeout` seconds: the listener runs even while
    /// every task thread is busy, so a browser (or a test) may connect before anything awaits the result.
    ///
    /// ```swift
    /// let pending = receiver.start(timeout: 300)
    /// openBrowser(url)
    /// let received = try await pending.value()
    /// ```
    public func start(timeout: TimeInterval) -> PendingRedirect {
        let pending = PendingRedirect()
        let started = lifecycle.withLock { state -> Bool in
            guard case .idle = state else { return false }
            state = .accepting
            return true
        }
        guard started else {
            pending.finish(.failure(ClientError(.http, "the loopback redirect listener is closed or already started")))
            return pending
        }
        let fd = socket
        let port = port
        let lifecycle = lifecycle
        let thread = Thread {
            let result = Self.acceptRedirect(fd: fd, port: port, timeout: timeout) {
                lifecycle.withLock { if case .closeRequested = $0 { true } else { false } }
            }
            // Under the lock, so that `close()` cannot `shutdown` a descriptor number already given back.
            lifecycle.withLock { state in
                state = .closed
                _ = Self.closeSocket(fd)
            }
            pending.finish(result)
        }
        thread.start()
        return pending
    }

    /// The accept loop: the first request for a path other than `/favicon.ico` is the redirect. It stops at the
    /// deadline, when `cancelled()` says so, or when the listening socket fails.
    static func acceptRedirect(
        fd: Int32, port: UInt16, timeout: TimeInterval, cancelled: () -> Bool
    ) -> Result<String, ClientError> {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if cancelled() { return .failure(ClientError(.http, "the loopback redirect listener was closed")) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else {
                return .failure(
                    ClientError(.timeout, "no redirect arrived on 127.0.0.1:\(port) within \(Int(timeout)) s"))
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
            guard ready > 0 else { continue }
            if poller.revents & Int16(POLLNVAL | POLLERR) != 0 {
                if cancelled() { continue }
                return .failure(ClientError(.http, "the loopback redirect listener on 127.0.0.1:\(port) failed"))
            }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            defer { _ = Self.closeSocket(client) }
            guard let target = Self.requestTarget(client) else { continue }
            if target.hasPrefix("/favicon.ico") {
                Self.answer(client, status: "404 Not Found", text: "")
                continue
            }
            Self.answer(
                client, status: "200 OK",
                text: "ScopeGate: the authorization response was received. You may close this window.\n")
            return .success("http://127.0.0.1:\(port)\(target)")
        }
    }

    /// Stops listening. Before ``start(timeout:)`` the socket is closed at once; after it, the accept thread is
    /// woken (`shutdown`) and closes the socket itself, ending a pending ``PendingRedirect`` with an error.
    public func close() {
        // The syscalls run under the lock: the accept thread closes the socket under it too, so a `shutdown`
        // never reaches a descriptor number that was given back and reused.
        lifecycle.withLock { state in
            switch state {
            case .idle:
                state = .closed
                _ = Self.closeSocket(socket)
            case .accepting:
                state = .closeRequested
                _ = shutdown(socket, Int32(SHUT_RDWR))
            case .closeRequested, .closed: break
            }
        }
    }

    static func closeSocket(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
            Glibc.close(fd)
        #else
            Darwin.close(fd)
        #endif
    }

    /// The request target of the request line (`GET /callback?… HTTP/1.1`), reading at most 16 KiB of head.
    static func requestTarget(_ fd: Int32) -> String? {
        var head: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while head.count < 16 * 1024 {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 5000) > 0 else { return nil }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            head += buffer[0..<n]
            if head.contains(0x0A) { break }
        }
        guard let line = String(decoding: head, as: UTF8.self).split(separator: "\r\n").first
        else { return nil }
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "GET", parts[1].hasPrefix("/") else { return nil }
        return String(parts[1])
    }

    static func answer(_ fd: Int32, status: String, text: String) {
        let body = Array(text.utf8)
        let response =
            Array(
                ("HTTP/1.1 \(status)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.count)\r\n"
                    + "Cache-Control: no-store\r\nConnection: close\r\n\r\n").utf8) + body
        #if canImport(Glibc)
            let flags = Int32(MSG_NOSIGNAL)
        #else
            let flags: Int32 = 0
        #endif
        _ = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, flags) }
    }
}

/// The redirect a ``LoopbackReceiver`` is waiting for: its accept loop runs on a thread; ``value()`` waits for it.
///
/// ```swift
/// let pending = receiver.start(timeout: 120)     // the accept thread runs from here on
/// openBrowser(authorizationURL)
/// let redirect = try await pending.value()        // "http://127.0.0.1:PORT/callback?code=…&state=…"
/// ```
public final class PendingRedirect: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Result<String, ClientError>, Never>?)
        case done(Result<String, ClientError>)
    }
    private let state = LockedValue<State>(.waiting(nil))

    init() {}

    func finish(_ result: Result<String, ClientError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<String, ClientError>, Never>? in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        waiter?.resume(returning: result)
    }

    /// The URL the redirect was sent to, once it has arrived (or the receiver's timeout error).
    public func value() async throws(ClientError) -> String {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<String, ClientError>, Never>) in
            let ready = state.withLock { state -> Result<String, ClientError>? in
                switch state {
                case .done(let result): return result
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try result.get()
    }
}
