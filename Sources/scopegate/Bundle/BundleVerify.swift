import ArgumentParser
import ScopeGateBundles
import ScopeGateCommandLine

/// `scopegate bundle verify NAME.bundle --key PUB.pem`.
struct BundleVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a bundle's signature and every file's hash.",
        discussion: """
            Checks, in this order: a signature that verifies with the public key over the exact manifest, then \
            every file against the manifest's SHA-256 (none missing, none extra). The same checks a replica makes \
            before it activates a bundle.
              openssl pkey -in signing.pem -pubout -out signing.pub.pem
              scopegate bundle verify climate.bundle --key signing.pub.pem
            Exit: 0 verified, 1 refused (tampered, wrong key, unsigned, unsupported alg, not a bundle; the reason \
            and its SGB code on stderr), 2 an unreadable bundle or key.
            """)

    @Argument(help: ArgumentHelp("The bundle to verify.", valueName: "name.bundle"))
    var bundle: String

    @Option(name: .long, help: ArgumentHelp("The public key (PEM: Ed25519 or P-256).", valueName: "pub.pem"))
    var key: String

    func run() throws {
        let opened: PolicyBundle
        do {
            let verificationKey = try BundleVerificationKey(contentsOfFile: key)
            opened = try PolicyBundle.open(path: bundle, key: verificationKey)
        } catch {
            throw BundleCLI.fail(error)
        }
        Output.stdout(
            "verified \(bundle): revision \(opened.revision), root \(opened.manifest.root), \(opened.files.count) "
                + "file\(opened.files.count == 1 ? "" : "s")\n")
    }
}
