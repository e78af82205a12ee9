import ArgumentParser
import Foundation

/// The exit codes every command shares (docs/exit-codes.md): 1 a finding (lint errors, a deny), 2 cannot do the job.
///
/// ```swift
/// guard clean else { throw Exit.finding }
/// ```
public enum Exit {
    public static let finding = ExitCode(1)
    public static let cannot = ExitCode(2)
}

/// Terminal output shared by `scopegate` and `scopegate-gateway`.
///
/// ```swift
/// throw Output.fail("cannot read `x.yaml`", help: "check the path")
/// ```
public enum Output {
    public static func stdout(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }
    public static func stderr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// Colour only on a TTY and never with `NO_COLOR`.
    public static func color(fd: Int32) -> Bool {
        isatty(fd) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// A clear error on stderr, `scopegate: error: …`; returns the exit code to throw (2).
    public static func fail(_ message: String, help: String? = nil) -> ExitCode {
        stderr("scopegate: error: \(message)\n" + (help.map { "  help: \($0)\n" } ?? ""))
        return Exit.cannot
    }
}
