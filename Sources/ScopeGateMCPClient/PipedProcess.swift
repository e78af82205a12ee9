import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts a child process with its standard input, output and error piped, through `/usr/bin/env` so that
/// `argv[0]` is looked up in `PATH` when it has no `/`. The MCP client's ``StdioTransport`` and the proxy's
/// stdio upstream both start their servers this way.
///
/// ```swift
/// let child = try PipedProcess.start(["mcp-server-time"], environment: nil)
/// child.input.write(Data("{…}\n".utf8))
/// ```
public struct PipedProcess {
    public let process: Process
    /// The child's standard input.
    public let input: FileHandle
    /// The child's standard output.
    public let output: FileHandle
    /// The child's standard error.
    public let errors: FileHandle

    /// Starts `argv` (not empty) with `environment` (nil: this process's). Writing to a child that has exited
    /// is made an error rather than a `SIGPIPE` that ends this process. Throws what `Process.run` throws.
    public static func start(_ argv: [String], environment: [String: String]?) throws -> PipedProcess {
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--"] + argv
        if let environment { process.environment = environment }
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return PipedProcess(
            process: process, input: stdin.fileHandleForWriting, output: stdout.fileHandleForReading,
            errors: stderr.fileHandleForReading)
    }
}
