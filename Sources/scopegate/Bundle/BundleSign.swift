import ArgumentParser
import ScopeGateBundles
import ScopeGateCommandLine

/// `scopegate bundle sign NAME.bundle --key KEY.pem [--key-id ID] [-o OUT]`.
struct BundleSign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a bundle's manifest with an Ed25519 or P-256 private key.",
        discussion: """
            Adds a JWS (EdDSA or ES256, from the key) over the bundle's manifest to its .signatures.json; a \
            signature with the same --key-id is replaced, others stay (sign with the old and the new key while \
            rotating). The bundle's files are checked against the manifest first: a tampered bundle is not signed.
              openssl genpkey -algorithm ed25519 -out signing.pem
              scopegate bundle sign climate.bundle --key signing.pem --key-id 2026-12
            Exit: 0 signed, 1 the bundle is refused (not a bundle, tampered), 2 an unreadable bundle or key.
            """)

    @Argument(help: ArgumentHelp("The bundle to sign.", valueName: "name.bundle"))
    var bundle: String

    @Option(name: .long, help: ArgumentHelp("The private key (PEM: Ed25519 or P-256).", valueName: "key.pem"))
    var key: String

    @Option(name: .long, help: "A key ID for the JWS `kid` header (letters, digits, `._-+:@`).")
    var keyId: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write here instead of over the bundle.", valueName: "out.bundle"))
    var output: String?

    func run() throws {
        let signed: PolicyBundle
        do {
            let signingKey = try BundleSigningKey(contentsOfFile: key)
            signed = try PolicyBundle.open(path: bundle, key: nil).signed(with: signingKey, keyID: keyId)
        } catch {
            throw BundleCLI.fail(error)
        }
        let target = output ?? bundle
        try BundleCLI.write(signed.archive(), to: target)
        let last = signed.signatures.last
        Output.stdout(
            "signed \(target): revision \(signed.revision), \(last?.algorithm ?? "?")"
                + (last?.keyID.map { " key ID \($0)" } ?? "") + ", \(signed.signatures.count) signature"
                + (signed.signatures.count == 1 ? "" : "s") + "\n")
    }
}
