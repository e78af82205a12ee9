import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// MCP's stdio transport: a child process started from an argv, newline-delimited JSON on its stdin and stdout,
/// its stderr drained (the last few KiB kept for error messages). A request that gets no answer in time kills the
/// child.
///
/// ```swift
/// let transport = try StdioTransport(argv: ["python3", "-m", "mcp_server_time"])
/// defer { transport.close() }
/// let tools = try MCPSession(transport: transport).initialize()
/// ```
public final class StdioTransport: MCPTransport, @unchecked Sendable {
    /// The largest message accepted from the server, in bytes.
    public static let maxMessageBytes = 16 << 20
    /// How much of the child's stderr is kept for error messages.
    static let stderrTailBytes = 4096

    private let process: Process
    private let input: FileHandle
    public let argv: [String]

    // Guarded by `condition`: lines read from stdout, the partial line, whether stdout ended, stderr's tail.
    private let condition = NSCondition()
    private var lines: [String] = []
    private var splitter = LineSplitter(maxLineBytes: StdioTransport.maxMessageBytes)
    private var outputClosed = false
    private var overflow = false
    private var stderrTail = Data()
    private var stderrClosed = false

    /// Starts `argv[0]` (looked up in `PATH` when it has no `/`) with the rest as arguments.
    public init(argv: [String], environment: [String: String]? = nil) throws(MCPClientError) {
        guard let first = argv.first, !first.isEmpty else {
            throw MCPClientError(.spawnFailed, "the server command is empty")
        }
        self.argv = argv
        let child: PipedProcess
        do { child = try PipedProcess.start(argv, environment: environment) } catch {
            throw MCPClientError(.spawnFailed, "cannot start `\(first)`: \(error.localizedDescription)")
        }
        self.process = child.process
        self.input = child.input
        let out = child.output
        let err = child.errors
        Thread.detachNewThread { [self] in self.pump(out) { self.received(stdout: $0) } }
        Thread.detachNewThread { [self] in self.pump(err) { self.received(stderr: $0) } }
    }

    deinit { close() }

    /// Reads `handle` until end of file, passing each chunk (and a final empty one) to `sink`.
    private func pump(_ handle: FileHandle, _ sink: (Data) -> Void) {
        while true {
            let chunk = handle.availableData
            sink(chunk)
            if chunk.isEmpty { return }
        }
    }

    private func received(stdout chunk: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if chunk.isEmpty {
            outputClosed = true
            return
        }
        lines += splitter.feed(chunk)
        if splitter.overflow { overflow = true }
    }

    private func received(stderr chunk: Data) {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        if chunk.isEmpty { stderrClosed = true }
        stderrTail.append(chunk)
        if stderrTail.count > Self.stderrTailBytes { stderrTail = Data(stderrTail.suffix(Self.stderrTailBytes)) }
    }

    /// The last lines the child wrote to stderr.
    public var stderrText: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: stderrTail, as: UTF8.self)
    }

    public func send(notification: JSONValue) throws(MCPClientError) {
        try write(notification)
    }

    public func send(request: JSONValue, id: Int, timeout: Duration) throws(MCPClientError) -> JSONValue {
        try write(request)
        let deadline = Date().addingTimeInterval(
            Double(timeout.components.seconds) + 1e-18 * Double(timeout.components.attoseconds))
        while true {
            let line = try nextLine(deadline: deadline, timeout: timeout)
            let message = try JSONRPC.parse(line)
            guard case .object(let object) = message else { continue }
            if object["method"] != nil {
                // A request from the server (it has an id) gets "method not found"; notifications are skipped.
                if let requestID = object["id"] { try write(JSONRPC.methodNotFound(id: requestID)) }
                continue
            }
            if object["id"] == .number(Decimal(id)) { return message }
        }
    }

    private func nextLine(deadline: Date, timeout: Duration) throws(MCPClientError) -> String {
        condition.lock()
        while lines.isEmpty && !outputClosed && !overflow {
            if !condition.wait(until: deadline) { break }
        }
        if !lines.isEmpty {
            let line = lines.removeFirst()
            condition.unlock()
            return line
        }
        let (closed, tooLarge) = (outputClosed, overflow)
        condition.unlock()
        if tooLarge {
            close()
            throw MCPClientError(.tooLarge, "the server sent a message larger than \(Self.maxMessageBytes) bytes")
        }
        if closed { throw exited() }
        close()
        throw MCPClientError(
            .timeout, "`\(argv[0])` did not answer within \(timeout); it was stopped" + stderrSuffix())
    }

    private func write(_ message: JSONValue) throws(MCPClientError) {
        guard process.isRunning else { throw exited() }
        do { try input.write(contentsOf: Data((message.jsonText + "\n").utf8)) } catch { throw exited() }
    }

    private func exited() -> MCPClientError {
        // Give the child a moment to be reaped so its status is known.
        for _ in 0..<50 where process.isRunning { usleep(10_000) }
        let status = process.isRunning ? "closed its output" : "exited with status \(process.terminationStatus)"
        // Read the rest of its stderr (bounded: a grandchild may hold the pipe open).
        condition.lock()
        let deadline = Date().addingTimeInterval(2)
        while !stderrClosed && condition.wait(until: deadline) {}
        condition.unlock()
        return MCPClientError(.childExited, "`\(argv[0])` \(status) before answering" + stderrSuffix())
    }

    private func stderrSuffix() -> String {
        let text = stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return "" }
        let lastLines = text.split(separator: "\n").suffix(5).joined(separator: "\n  ")
        return "; its stderr ends with:\n  " + lastLines
    }

    /// Closes the child's stdin and ends it: SIGTERM, then SIGKILL if it is still running after 1 s.
    public func close() {
        try? input.close()
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
