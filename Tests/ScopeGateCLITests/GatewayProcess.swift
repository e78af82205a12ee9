import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A `scopegate proxy` or `scopegate authz` left running for a test: started in the repository root, stopped
/// with `SIGTERM` (then `SIGKILL` after 10 s, so a hung service cannot hang the suite).
final class GatewayProcess: @unchecked Sendable {
    private let process: Process
    private let errors: Pipe
    private let collected = LockedData()

    private init(process: Process, errors: Pipe) {
        self.process = process
        self.errors = errors
    }

    static func start(_ args: [String], environment: [String: String] = [:]) throws -> GatewayProcess {
        let process = CLIRunner.process(args, environment: environment)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let gateway = GatewayProcess(process: process, errors: errors)
        Thread { gateway.collected.set(errors.fileHandleForReading.readDataToEndOfFile()) }.start()
        return gateway
    }

    /// Sends `SIGTERM` and returns the exit status.
    func terminate() -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<1000 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Stops it if it still runs.
    func stop() { _ = terminate() }

    /// What it wrote to stderr, once it has exited.
    var stderr: String {
        for _ in 0..<500 where !collected.done && !process.isRunning { usleep(10_000) }
        return String(decoding: collected.value, as: UTF8.self)
    }
}

/// A loopback TCP port free at the time of asking (the kernel's pick for port 0).
enum LoopbackPort {
    struct Unavailable: Error {}

    static func free() throws -> Int {
        let (port, fd) = try bound(listening: false)
        close(fd)
        return port
    }

    /// A loopback port held by a listening socket, so that a server asked to listen there cannot; close `fd` to
    /// free it.
    static func occupied() throws -> (port: Int, fd: Int32) { try bound(listening: true) }

    private static func bound(listening: Bool) throws -> (port: Int, fd: Int32) {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Unavailable() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, !listening || listen(fd, 1) == 0 else {
            close(fd)
            throw Unavailable()
        }
        return (Int(UInt16(bigEndian: address.sin_port)), fd)
    }
}
