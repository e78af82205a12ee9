import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateBundles
import ScopeGateCommandLine

/// `scopegate bundle inspect NAME.bundle [--format human|json]`.
struct BundleInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a bundle's revision, root, build time, files and signatures.",
        discussion: """
            Checks every file against the manifest, but not the signatures (they are listed UNVERIFIED; use \
            `scopegate bundle verify --key`). `tar -tvf NAME.bundle` lists the same entries.
              scopegate bundle inspect climate.bundle
              scopegate bundle inspect climate.bundle --format json | jq -r .revision
            Exit: 0 shown, 1 refused (not a bundle, tampered), 2 an unreadable file.
            """)

    @Argument(help: ArgumentHelp("The bundle to inspect.", valueName: "name.bundle"))
    var bundle: String

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func run() throws {
        let opened: PolicyBundle
        let size: Int
        do {
            opened = try PolicyBundle.open(path: bundle, key: nil)
            size = (try? FileManager.default.attributesOfItem(atPath: bundle)[.size] as? Int) ?? opened.archive().count
        } catch {
            throw BundleCLI.fail(error)
        }
        switch format {
        case .human: Output.stdout(human(opened, size: size))
        case .json: Output.stdout(json(opened, size: size).jsonText + "\n")
        }
    }

    func human(_ bundle: PolicyBundle, size: Int) -> String {
        let manifest = bundle.manifest
        var out = "bundle      \(self.bundle) (\(size) bytes)\n"
        out += "revision    \(manifest.revision)\n"
        out += "root        \(manifest.root)\n"
        out += "built       \(ISO8601DateFormatter().string(from: manifest.built))\n"
        out += "format      \(manifest.format)\n"
        if bundle.signatures.isEmpty {
            out += "signatures  none (unsigned)\n"
        } else {
            let list = bundle.signatures.map { "\($0.algorithm) key ID \($0.keyID ?? "-")" }
            out += "signatures  \(list.joined(separator: "; ")) (UNVERIFIED: `scopegate bundle verify --key`)\n"
        }
        out += "files       \(bundle.files.count)\n"
        for file in bundle.files {
            let bytes = String(file.bytes.count)
            out += "  \(file.sha256)  \(String(repeating: " ", count: max(0, 8 - bytes.count)))\(bytes)  \(file.path)\n"
        }
        return out
    }

    func json(_ bundle: PolicyBundle, size: Int) -> JSONValue {
        let manifest = bundle.manifest
        return .object([
            "bundle": .string(self.bundle),
            "bytes": .number(Decimal(size)),
            "revision": .string(manifest.revision),
            "root": .string(manifest.root),
            "built": .string(ISO8601DateFormatter().string(from: manifest.built)),
            "format": .number(Decimal(manifest.format)),
            "verified": .bool(false),
            "signatures": .array(
                bundle.signatures.map { signature in
                    .object([
                        "alg": .string(signature.algorithm), "kid": signature.keyID.map(JSONValue.string) ?? .null,
                    ])
                }),
            "files": .array(
                bundle.files.map { file in
                    .object([
                        "path": .string(file.path), "sha256": .string(file.sha256),
                        "bytes": .number(Decimal(file.bytes.count)),
                    ])
                }),
        ])
    }
}
