import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts `scopegate-gateway`, the executable that runs the network services (`proxy`, `authz`), in place of
/// the current process. They live in their own executable so that `scopegate` itself builds without the HTTP
/// server and client stacks (a newcomer's first `swift run scopegate lint` stays short); `scopegate proxy …` is
/// still the command users type. The gateway is looked for next to `scopegate` (how `swift build` and an install
/// lay them out), then on `PATH`.
///
/// ```swift
/// func run() throws { throw GatewayLauncher.exec(subcommand: "proxy") }
/// ```
public enum GatewayLauncher {
    public static let executableName = "scopegate-gateway"

    /// Replaces this process with `scopegate-gateway SUBCOMMAND ARGS…` (the arguments after the subcommand, as
    /// given). Returns only on failure, with the exit code to throw after a clear message.
    public static func exec(subcommand: String, arguments: [String] = CommandLine.arguments) -> Error {
        guard let gateway = locate() else {
            return Output.fail(
                "`scopegate \(subcommand)` runs in the `\(executableName)` executable, which is not built",
                help: "build it with `swift build --product \(executableName)` (or `swift build`), then run again")
        }
        let rest = arguments.drop(while: { $0 != subcommand }).dropFirst()
        let argv = [gateway, subcommand] + rest
        var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cArgs.append(nil)
        execv(gateway, &cArgs)
        let reason = String(cString: strerror(errno))
        return Output.fail("cannot start `\(gateway)`: \(reason)")
    }

    /// The gateway executable beside this one, else on `PATH`.
    static func locate() -> String? {
        var candidates: [String] = []
        if let own = ownExecutable() {
            candidates.append((own as NSString).deletingLastPathComponent + "/" + executableName)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        candidates += path.split(separator: ":").map { "\($0)/\(executableName)" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func ownExecutable() -> String? {
        #if os(Linux)
            if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
                return resolved
            }
        #endif
        return Bundle.main.executablePath
    }
}
