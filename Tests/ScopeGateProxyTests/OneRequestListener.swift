import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A loopback TCP listener that reads one request head, answers (by default 403, `Connection: close`) and closes.
final class OneRequestListener: @unchecked Sendable {
    /// Writes an answer to the accepted socket.
    typealias Answer = @Sendable (_ socket: Int32) -> Void
    static let forbidden: Answer = { client in
        let answer = Array("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
    }

    let port: Int
    private let received = NSCondition()
    private var text: String?

    init(answer: @escaping Answer = OneRequestListener.forbidden) throws {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ready = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard fd >= 0, ready else {
            if fd >= 0 { close(fd) }
            throw POSIXError(.EADDRNOTAVAIL)
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            defer { close(fd) }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return finish("") }
            defer { close(client) }
            var head: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !String(decoding: head, as: UTF8.self).contains("\r\n\r\n"), head.count < 65536 {
                let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
                if n <= 0 { break }
                head += buffer[0..<n]
            }
            finish(String(decoding: head, as: UTF8.self))
            answer(client)
        }.start()
    }

    private func finish(_ head: String) {
        received.lock()
        text = head
        received.broadcast()
        received.unlock()
    }

    /// The head it read (waits up to 10 s).
    func head() -> String {
        received.lock()
        defer { received.unlock() }
        let deadline = Date().addingTimeInterval(10)
        while text == nil, received.wait(until: deadline) {}
        return text ?? ""
    }
}
