import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to a loopback port, for what an HTTP client library hides: pipelined requests, HTTP/1.0,
/// a head sent in part, the server closing the connection. Each read waits at most `timeout`. Unchecked `Sendable`:
/// a test uses its connection from one thread at a time (``read(until:)`` hands it to a thread of its own while the
/// test waits).
public final class RawConnection: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    private let fd: Int32

    /// The descriptor is stored last: once `fd` is set, a throw from here would run `deinit` and close it a
    /// second time, possibly closing a socket another thread has just been given the same number.
    public init(port: Int, timeout: TimeInterval = 5) throws {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write failed") }
            sent += n
        }
    }

    /// Reads until `done` holds for everything received, the peer closes (or resets: a server that closes with
    /// unread input left resets the connection), or a read times out. Blocks the calling thread: tests call
    /// ``read(until:)``, which blocks a thread of its own.
    public func readBlocking(until done: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !done(String(decoding: received, as: UTF8.self)) {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { break }  // timed out
                return (String(decoding: received, as: UTF8.self), true)
            }
            received += chunk[..<n]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }
}

extension RawConnection {
    /// ``readBlocking(until:)`` on a thread of its own. A blocking read on one of the cooperative threads (two, on
    /// a small machine) would starve the tasks that prepare answers, in this test and in the tests running beside
    /// it, until the read times out.
    public func read(until done: @escaping @Sendable (String) -> Bool = { _ in false }) async -> (
        text: String, closed: Bool
    ) {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.readBlocking(until: done)) }.start()
        }
    }
}

extension String {
    /// How many times `needle` occurs.
    public func occurrences(of needle: String) -> Int { components(separatedBy: needle).count - 1 }
}
