import Foundation
import ScopeGate

#if canImport(ScopeGateCommandLine)
    // scripts/fuzz.sh compiles the batch files without it, with a stand-in `Output` of its own.
    import ScopeGateCommandLine
#endif

/// `check --batch`: streams JSON Lines in constant memory (``ChunkedLineReader``), answering each line in order
/// through a ``BatchSession``.
struct BatchRunner {
    let policy: CompiledPolicy
    let input: String
    let logPath: String?

    /// Returns false when some line was bad (the command then exits 2).
    func run() throws -> Bool {
        let fd: Int32 = input == "-" ? 0 : open(input, O_RDONLY)
        guard fd >= 0 else {
            throw Output.fail("cannot read `\(input)`", help: "check the path, or use `-` for standard input")
        }
        defer { if fd != 0 { close(fd) } }
        var logHandle: FileHandle?
        if let logPath {
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            guard let h = FileHandle(forWritingAtPath: logPath) else {
                throw Output.fail("cannot write the audit log `\(logPath)`")
            }
            h.seekToEndOfFile()
            logHandle = h
        }
        var session = BatchSession(
            processor: BatchProcessor(
                policy: policy, policyVersion: "\(policy.model.contentHash)-1", audit: logHandle != nil),
            logFD: logHandle?.fileDescriptor)
        let reader = ChunkedLineReader(fileDescriptor: fd, maxLineBytes: session.processor.maxLineBytes)
        let complete = reader.read(into: &session)
        session.flush(force: true)
        guard complete else {
            throw Output.fail("cannot read `\(input)`", help: "check the path, or use `-` for standard input")
        }
        return session.allGood
    }
}
