import Foundation
import ScopeGateMCPClient

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One running stdio MCP server process: newline-delimited JSON written to its stdin in order (on a serial
/// queue, so no caller blocks on a full pipe), its stdout delivered line by line, in order, as ``lines``, its
/// stderr drained (the last few KiB kept for logs). ``StdioBridge`` owns it and starts a new one when it ends.
final class StdioChild: @unchecked Sendable {
    /// What the child's stdout produced.
    enum Output: Sendable {
        case line(String)
        /// A line longer than the limit: the stream cannot be trusted any more.
        case overflow
        /// End of stdout (the child exited or closed it).
        case closed
    }

    static let stderrTailBytes = 4096

    let argv: [String]
    let lines: AsyncStream<Output>
    private let process: Process
    private let input: FileHandle
    private let writes = DispatchQueue(label: "scopegate.proxy.stdio-writes")
    private let tail = NSLock()
    private var stderrTail = Data()

    /// Starts `argv[0]` (looked up in `PATH` when it has no `/`) with the rest as arguments.
    init(argv: [String], environment: [String: String]?, maxLineBytes: Int) throws(UpstreamFailure) {
        guard let first = argv.first, !first.isEmpty else {
            throw UpstreamFailure(.childFailed, "the upstream command is empty")
        }
        self.argv = argv
        let child: PipedProcess
        do { child = try PipedProcess.start(argv, environment: environment) } catch {
            throw UpstreamFailure(.childFailed, "cannot start the upstream command `\(first)`")
        }
        self.process = child.process
        self.input = child.input
        let (lines, continuation) = AsyncStream.makeStream(of: Output.self)
        self.lines = lines
        let out = child.output
        let err = child.errors
        Thread.detachNewThread {
            var splitter = LineSplitter(maxLineBytes: maxLineBytes)
            while true {
                let chunk = out.availableData
                if chunk.isEmpty { break }
                for line in splitter.feed(chunk) { continuation.yield(.line(line)) }
                if splitter.overflow {
                    continuation.yield(.overflow)
                    break
                }
            }
            continuation.yield(.closed)
            continuation.finish()
        }
        Thread.detachNewThread { [self] in
            while true {
                let chunk = err.availableData
                if chunk.isEmpty { return }
                tail.withLock {
                    stderrTail.append(chunk)
                    if stderrTail.count > Self.stderrTailBytes {
                        stderrTail = Data(stderrTail.suffix(Self.stderrTailBytes))
                    }
                }
            }
        }
    }

    deinit { terminate() }

    /// The process id (for logs).
    var pid: Int32 { process.processIdentifier }

    /// The last lines the child wrote to stderr.
    var stderrText: String { tail.withLock { String(decoding: stderrTail, as: UTF8.self) } }

    /// Writes one message line; a child that has exited is noticed by its stdout closing, so a failed write is
    /// dropped here.
    func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        writes.async { [input] in try? input.write(contentsOf: data) }
    }

    /// Closes stdin and ends the child: SIGTERM, then SIGKILL when it is still running 1 s later; off the
    /// caller's thread unless `wait` (at shutdown, so that the child is gone before this process).
    func terminate(wait: Bool = false) {
        let (process, input) = (self.process, self.input)
        let end: @Sendable () -> Void = {
            try? input.close()
            guard process.isRunning else { return }
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        if wait { writes.sync(execute: end) } else { writes.async(execute: end) }
    }
}
