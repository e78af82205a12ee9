import ArgumentParser
import Foundation

/// The `main` of `scopegate` and `scopegate-gateway`: parses, runs, and maps errors to the shared exit codes
/// (usage errors are 2, where ArgumentParser's default is 64; the commands' own codes pass through).
///
/// ```swift
/// @main enum Entry { static func main() async { await CommandMain.run(ScopeGateCommand.self) } }
/// ```
public enum CommandMain {
    public static func run<Root: ParsableCommand>(_ root: Root.Type) async -> Never {
        do {
            var command = try Root.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit(0)
        } catch {
            let code = Root.exitCode(for: error)
            let message = Root.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            if !message.isEmpty { Output.stderr(message.hasSuffix("\n") ? message : message + "\n") }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
