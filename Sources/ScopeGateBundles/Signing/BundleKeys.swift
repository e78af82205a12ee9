import Crypto
import Foundation

/// A signature algorithm for bundles, named as JWS names it.
///
/// ```swift
/// if key.algorithm == .edDSA { print("Ed25519") }
/// ```
public struct BundleAlgorithm: Sendable, Hashable, CustomStringConvertible {
    /// The JWS `alg`: `EdDSA` or `ES256`.
    public let id: String
    /// Ed25519 (RFC 8037).
    public static let edDSA = BundleAlgorithm(uncheckedID: "EdDSA")
    /// ECDSA over P-256 with SHA-256 (RFC 7518 §3.4).
    public static let es256 = BundleAlgorithm(uncheckedID: "ES256")

    private init(uncheckedID: String) { self.id = uncheckedID }

    /// The algorithm named `id`, or `nil` when it is not one bundles use (`none`, `HS256`, `RS256`, …).
    public init?(id: String) {
        switch id {
        case "EdDSA": self = .edDSA
        case "ES256": self = .es256
        default: return nil
        }
    }

    public var description: String { id }
}

/// A private key that signs bundles: Ed25519 or P-256, read from PEM (PKCS #8 `PRIVATE KEY`, or SEC 1
/// `EC PRIVATE KEY` for P-256) as `openssl genpkey` writes it.
///
/// ```swift
/// // openssl genpkey -algorithm ed25519 -out bundle-signing.pem
/// let key = try BundleSigningKey(pem: String(decoding: pemBytes, as: UTF8.self))
/// let signed = try bundle.signed(with: key, keyID: "2026-12")
/// ```
public struct BundleSigningKey: Sendable {
    let storage: BundleKeyStorage<Curve25519.Signing.PrivateKey, P256.Signing.PrivateKey>

    /// Wraps an Ed25519 key.
    public init(_ key: Curve25519.Signing.PrivateKey) { storage = .ed25519(key) }
    /// Wraps a P-256 key.
    public init(_ key: P256.Signing.PrivateKey) { storage = .p256(key) }

    /// Reads a PEM private key; throws ``BundleError/Code/badKey`` for anything else (a public key included).
    public init(pem: String) throws(BundleError) {
        let block = try PEM.block(pem)
        if block.label == "PRIVATE KEY", let raw = PEM.ed25519PrivateKey(block.der) {
            do {
                storage = .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
                return
            } catch {
                throw BundleError(.badKey, "the Ed25519 private key is not valid")
            }
        }
        if block.label == "PRIVATE KEY" || block.label == "EC PRIVATE KEY",
            let key = try? P256.Signing.PrivateKey(pemRepresentation: pem)
        {
            storage = .p256(key)
            return
        }
        if block.label == "PUBLIC KEY" {
            throw BundleError(.badKey, "this is a public key; signing needs the private key")
        }
        throw BundleError(
            .badKey, "the key is not an Ed25519 or P-256 private key",
            help: "create one with `openssl genpkey -algorithm ed25519 -out KEY.pem`")
    }

    /// Reads a PEM private key file (at most 16 KiB).
    public init(contentsOfFile path: String) throws(BundleError) {
        try self.init(pem: PEM.text(ofFile: path))
    }

    /// The algorithm this key signs with.
    public var algorithm: BundleAlgorithm { storage.algorithm }

    /// The matching public key.
    public var verificationKey: BundleVerificationKey {
        switch storage {
        case .ed25519(let key): BundleVerificationKey(key.publicKey)
        case .p256(let key): BundleVerificationKey(key.publicKey)
        }
    }

    /// The key as PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), as `openssl genpkey` writes it.
    public var pem: String { storage.pem(label: "PRIVATE KEY", ed25519Prefix: PEM.ed25519PrivatePrefix) }

    /// Signs `input`: Ed25519's 64 bytes, or ES256's 64-byte `r || s` (as JWS encodes ECDSA signatures).
    func sign(_ input: [UInt8]) throws(BundleError) -> [UInt8] {
        do {
            switch storage {
            case .ed25519(let key): return Array(try key.signature(for: input))
            case .p256(let key): return Array(try key.signature(for: input).rawRepresentation)
            }
        } catch {
            throw BundleError(.badKey, "signing failed: \(error)")
        }
    }
}

/// A public key that verifies bundle signatures: Ed25519 or P-256, read from PEM (`PUBLIC KEY`, SubjectPublicKeyInfo)
/// as `openssl pkey -pubout` writes it.
///
/// ```swift
/// // openssl pkey -in bundle-signing.pem -pubout -out bundle-signing.pub.pem
/// let key = try BundleVerificationKey(contentsOfFile: "bundle-signing.pub.pem")
/// let bundle = try PolicyBundle.open(bytes, key: key)
/// ```
public struct BundleVerificationKey: Sendable {
    let storage: BundleKeyStorage<Curve25519.Signing.PublicKey, P256.Signing.PublicKey>

    /// Wraps an Ed25519 key.
    public init(_ key: Curve25519.Signing.PublicKey) { storage = .ed25519(key) }
    /// Wraps a P-256 key.
    public init(_ key: P256.Signing.PublicKey) { storage = .p256(key) }

    /// Reads a PEM public key; throws ``BundleError/Code/badKey`` for anything else. A private key is refused
    /// too: replicas that verify should never hold the signing key.
    public init(pem: String) throws(BundleError) {
        let block = try PEM.block(pem)
        guard block.label == "PUBLIC KEY" else {
            if block.label.contains("PRIVATE KEY") {
                throw BundleError(
                    .badKey, "this is a private key; verification takes the public key",
                    help:
                        "derive it with `openssl pkey -in KEY.pem -pubout -out PUB.pem`, and keep the private key off replicas"
                )
            }
            throw BundleError(.badKey, "the PEM block is not a `PUBLIC KEY`")
        }
        if let raw = PEM.ed25519PublicKey(block.der) {
            do {
                storage = .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: raw))
                return
            } catch {
                throw BundleError(.badKey, "the Ed25519 public key is not valid")
            }
        }
        guard let key = try? P256.Signing.PublicKey(derRepresentation: block.der) else {
            throw BundleError(
                .badKey, "the key is not an Ed25519 or P-256 public key",
                help: "bundles are signed with Ed25519 (`openssl genpkey -algorithm ed25519`) or P-256 keys")
        }
        storage = .p256(key)
    }

    /// Reads a PEM public key file (at most 16 KiB).
    public init(contentsOfFile path: String) throws(BundleError) {
        try self.init(pem: PEM.text(ofFile: path))
    }

    /// The algorithm of the signatures this key verifies.
    public var algorithm: BundleAlgorithm { storage.algorithm }

    /// The key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    public var pem: String { storage.pem(label: "PUBLIC KEY", ed25519Prefix: PEM.ed25519PublicPrefix) }

    func isValidSignature(_ signature: [UInt8], for input: [UInt8]) -> Bool {
        switch storage {
        case .ed25519(let key):
            return key.isValidSignature(signature, for: input)
        case .p256(let key):
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(parsed, for: input)
        }
    }
}

/// The key of a ``BundleSigningKey`` (private) or a ``BundleVerificationKey`` (public), of either algorithm: what
/// depends only on the algorithm is written here once for both.
enum BundleKeyStorage<Ed25519Key: RawRepresentableKey, P256Key: PEMRepresentableKey>: Sendable {
    case ed25519(Ed25519Key)
    case p256(P256Key)

    var algorithm: BundleAlgorithm {
        switch self {
        case .ed25519: .edDSA
        case .p256: .es256
        }
    }

    /// The key as PEM: for Ed25519, `ed25519Prefix` and the raw key under `label` (swift-crypto writes no Ed25519
    /// PEM); for P-256, as swift-crypto writes it.
    func pem(label: String, ed25519Prefix: [UInt8]) -> String {
        switch self {
        case .ed25519(let key): PEM.encode(label: label, der: ed25519Prefix + Array(key.rawRepresentation))
        case .p256(let key): key.pemRepresentation
        }
    }
}

/// An Ed25519 key, private or public, as raw bytes.
protocol RawRepresentableKey: Sendable {
    var rawRepresentation: Data { get }
}

/// A P-256 key, private or public, as swift-crypto writes it in PEM.
protocol PEMRepresentableKey: Sendable {
    var pemRepresentation: String { get }
}

extension Curve25519.Signing.PrivateKey: RawRepresentableKey {}
extension Curve25519.Signing.PublicKey: RawRepresentableKey {}
extension P256.Signing.PrivateKey: PEMRepresentableKey {}
extension P256.Signing.PublicKey: PEMRepresentableKey {}

/// The PEM and DER this target reads by hand: swift-crypto reads P-256 PEM itself but not Ed25519's, whose DER
/// (RFC 8410) is a fixed prefix followed by the 32-byte key, so an exact prefix match is the whole parser.
enum PEM {
    static let maxBytes = 16 << 10
    /// PKCS #8 v1 `PrivateKeyInfo` for Ed25519 (OID 1.3.101.112), up to the 32-byte private key.
    static let ed25519PrivatePrefix: [UInt8] = [
        0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ]
    /// `SubjectPublicKeyInfo` for Ed25519, up to the 32-byte public key.
    static let ed25519PublicPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// The text of a PEM key file, at most ``maxBytes`` read.
    static func text(ofFile path: String) throws(BundleError) -> String {
        String(decoding: try BundleIO.read(path: path, limit: maxBytes, code: .badKey, what: "key"), as: UTF8.self)
    }

    /// The first PEM block: its label and DER bytes.
    static func block(_ text: String) throws(BundleError) -> (label: String, der: [UInt8]) {
        guard text.utf8.count <= maxBytes else { throw BundleError(.badKey, "the key file is over \(maxBytes) bytes") }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("-----BEGIN ") && $0.hasSuffix("-----") }) else {
            throw BundleError(.badKey, "the key is not PEM (no `-----BEGIN …-----` line)")
        }
        let label = String(lines[begin].dropFirst("-----BEGIN ".count).dropLast(5))
        guard let end = lines[(begin + 1)...].firstIndex(of: "-----END \(label)-----") else {
            throw BundleError(.badKey, "the PEM block \(BundleError.quote(label)) has no END line")
        }
        guard let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()), !der.isEmpty else {
            throw BundleError(.badKey, "the PEM block \(BundleError.quote(label)) is not base64")
        }
        return (label, Array(der))
    }

    static func ed25519PrivateKey(_ der: [UInt8]) -> [UInt8]? {
        der.count == ed25519PrivatePrefix.count + 32 && der.starts(with: ed25519PrivatePrefix)
            ? Array(der.suffix(32)) : nil
    }

    static func ed25519PublicKey(_ der: [UInt8]) -> [UInt8]? {
        der.count == ed25519PublicPrefix.count + 32 && der.starts(with: ed25519PublicPrefix)
            ? Array(der.suffix(32)) : nil
    }

    static func encode(label: String, der: [UInt8]) -> String {
        let base64 = Data(der).base64EncodedString()
        var lines: [String] = ["-----BEGIN \(label)-----"]
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(String(rest.prefix(64)))
            rest = rest.dropFirst(64)
        }
        lines.append("-----END \(label)-----")
        return lines.joined(separator: "\n") + "\n"
    }
}
