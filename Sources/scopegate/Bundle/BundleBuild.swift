import ArgumentParser
import Foundation
import ScopeGateBundles
import ScopeGateCommandLine

/// `scopegate bundle build FILE|DIR… -o NAME.bundle [--revision R]`.
struct BundleBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a bundle from a policy and the files it includes.",
        discussion: """
            The first FILE is the root policy (a DIR stands for its policy.yaml); it is compiled first, and a policy \
            with errors is refused. The bundle holds the root and every file it includes, by path relative to the \
            root's directory (an include outside it is refused). Further FILEs or DIRs (every *.yaml/*.yml under \
            it) are added as they are, e.g. policy tests. The revision defaults to the SHA-256 of the contents. \
            The build time is now, or SOURCE_DATE_EPOCH when set: the same inputs and time give the same bytes.
              scopegate bundle build policies/climate.yaml -o climate.bundle
              scopegate bundle build policies/climate.yaml policies/tests -o climate.bundle --revision "$(git rev-parse --short HEAD)"
            Exit: 0 built, 2 a policy with errors, an unreadable file, a file outside the root's directory.
            """)

    @Argument(help: ArgumentHelp("The root policy, then any extra files or directories.", valueName: "file-or-dir"))
    var paths: [String]

    @Option(name: .shortAndLong, help: ArgumentHelp("The bundle file to write.", valueName: "name.bundle"))
    var output: String

    @Option(name: .long, help: "The revision (letters, digits, `._-+:@`; default: the SHA-256 of the contents).")
    var revision: String?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("give the root policy file (or its directory)") }
    }

    func run() throws {
        let bundle: PolicyBundle
        let now = try Self.buildTime()
        do {
            bundle = try PolicyBundle.build(policy: paths, revision: revision, now: now)
        } catch {
            throw BundleCLI.fail(error)
        }
        let bytes = bundle.archive()
        try BundleCLI.write(bytes, to: output)
        Output.stdout(
            "built \(output): revision \(bundle.revision), root \(bundle.manifest.root), \(bundle.files.count) "
                + "file\(bundle.files.count == 1 ? "" : "s"), \(bytes.count) bytes\n")
    }

    /// `SOURCE_DATE_EPOCH` (reproducible builds) when set, otherwise now.
    static func buildTime() throws -> Date {
        guard let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] else { return Date() }
        guard let seconds = Int(text), seconds >= 0 else {
            throw Output.fail("SOURCE_DATE_EPOCH must be a whole number of seconds, not `\(text)`")
        }
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
