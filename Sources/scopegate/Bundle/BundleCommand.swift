import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateBundles
import ScopeGateCommandLine

/// `scopegate bundle`: build, sign, verify and inspect signed policy bundles (docs/bundles.md).
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Build, sign, verify and inspect signed policy bundles.",
        discussion: """
            A bundle is one file holding a policy (its root and every file it includes), a manifest of their \
            SHA-256 hashes and, once signed, JWS signatures (EdDSA or ES256) over the manifest: an uncompressed \
            POSIX tar archive that `tar -tf` lists. See docs/bundles.md.
              scopegate bundle build policies/climate.yaml -o climate.bundle
              scopegate bundle sign climate.bundle --key signing.pem --key-id 2026-12
              scopegate bundle verify climate.bundle --key signing.pub.pem
              scopegate bundle inspect climate.bundle
            Exit: 0 done, 1 the bundle is refused (tampered, wrong key, unsigned with a key, not a bundle), \
            2 cannot do the job (usage, unreadable file or key, a policy with errors).
            """,
        subcommands: [BundleBuild.self, BundleSign.self, BundleVerify.self, BundleInspect.self]
    )
}

/// What the `bundle` subcommands share: error reporting with the exit code of each code, and atomic writes.
enum BundleCLI {
    /// Prints `error` (its policy diagnostics first, when it has any) and returns the exit code: 2 for the
    /// command's own inputs (a policy with errors, an unreadable file or key, a path outside the root, a failed
    /// write), 1 for a bundle that is refused.
    static func fail(_ error: BundleError) -> ExitCode {
        let errors = Diagnostics(error.diagnostics.filter { $0.severity == .error })
        if !errors.isEmpty {
            Output.stderr(DiagnosticRenderer(sources: error.sources, color: Output.color(fd: 2)).human(errors))
        }
        Output.stderr(
            "scopegate: error: \(error.code.id): \(error.message)\n" + (error.help.map { "  help: \($0)\n" } ?? ""))
        let input: Set<BundleError.Code> = [.badInput, .badKey, .policyErrors, .outsideRoot, .extractFailed]
        return input.contains(error.code) ? Exit.cannot : Exit.finding
    }

    /// Writes `bytes` to `path` atomically (a temporary file renamed into place), so a server never serves half
    /// a bundle.
    static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Output.fail("cannot write `\(path)`: \(error.localizedDescription)")
        }
    }
}
