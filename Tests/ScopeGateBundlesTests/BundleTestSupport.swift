import Crypto
import Foundation
import ScopeGate

@testable import ScopeGateBundles

/// A fresh temporary directory holding a small policy: `policy.yaml` including `common/scopes.yaml`.
struct PolicyTree {
    let directory: String

    static let root = """
        version: 1
        include: [common/scopes.yaml]
        tools:
          get_forecast: weather:read
          set_alert: weather:write
        """
    static let scopes = """
        scopes:
          weather:read: {}
          weather:write:
            implies: [weather:read]
        """

    init(files: [String: String] = ["policy.yaml": Self.root, "common/scopes.yaml": Self.scopes]) throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("scopegate-bundle-\(UUID().uuidString)").path
        for (name, text) in files { try write(name, text) }
    }

    func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path(name))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}

/// A fixed build time, so builds are comparable byte for byte.
let buildTime = Date(timeIntervalSince1970: 1_796_000_000)

/// Keys of both algorithms, generated per test run (no private key is committed).
enum TestKeys {
    static func ed25519() -> BundleSigningKey { BundleSigningKey(Curve25519.Signing.PrivateKey()) }
    static func p256() -> BundleSigningKey { BundleSigningKey(P256.Signing.PrivateKey()) }
}

/// Rebuilds an archive from entries, for tampering: `(path, bytes)` in the order given.
func archive(_ entries: [(String, [UInt8])]) -> [UInt8] {
    UStar.write(entries.map { (path: $0.0, bytes: $0.1) })
}

/// The entries of an archive, in order (read with default limits).
func entries(_ bytes: [UInt8]) throws -> [(String, [UInt8])] {
    try UStar.read(bytes, limits: BundleLimits()).map { ($0.path, $0.bytes) }
}

/// The code of the `BundleError` that `body` throws, or nil when it does not throw (any other error gives a code
/// that matches no real one).
func code(_ body: () throws -> Void) -> BundleError.Code? {
    do {
        try body()
        return nil
    } catch let error as BundleError {
        return error.code
    } catch {
        return BundleError.Code("not a BundleError: \(error)")
    }
}
