import ScopeGate

/// One signature of a bundle: a compact JWS whose payload is the bundle's exact `.manifest` bytes, signed with
/// `EdDSA` (Ed25519) or `ES256` (P-256). The bundle stores its signatures as OPA does, in `.signatures.json`:
/// `{"signatures":["<compact JWS>", …]}`. Several signatures (one per key) let keys be rotated without a window in
/// which some replicas refuse the bundle.
///
/// ```swift
/// for signature in bundle.signatures { print(signature.algorithm, signature.keyID ?? "-") }
/// ```
public struct BundleSignature: Sendable, Equatable {
    /// The protected header's `alg`, as written (only `EdDSA` and `ES256` ever verify).
    public let algorithm: String
    /// The protected header's `kid`, when given: a label for operators, never used to pick or fetch a key.
    public let keyID: String?
    /// The compact JWS.
    public let jws: String
    /// Whether the header lists `crit` extensions or `b64` (none are understood, so the signature never verifies).
    let hasExtensions: Bool
    /// `BASE64URL(header) '.' BASE64URL(payload)`: what the signature covers.
    let signingInput: [UInt8]
    let payload: [UInt8]
    let signature: [UInt8]

    /// Most signatures one bundle may carry.
    static let maxCount = 8

    /// Parses `.signatures.json`.
    static func parse(file bytes: [UInt8]) throws(BundleError) -> [BundleSignature] {
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBufferPointer { buffer throws(JSONParser.Failure) in
                try JSONParser(maxDepth: 3).parse(buffer)
            }
        } catch {
            throw BundleError(.badSignatures, "`.signatures.json` is not valid JSON: \(error)")
        }
        guard case .object(let object) = value, object.count == 1, case .array(let items) = object["signatures"]
        else {
            throw BundleError(.badSignatures, "`.signatures.json` is not `{\"signatures\": [\"<compact JWS>\", …]}`")
        }
        guard !items.isEmpty, items.count <= maxCount else {
            throw BundleError(.badSignatures, "`.signatures.json` must hold 1 to \(maxCount) signatures")
        }
        var signatures: [BundleSignature] = []
        for item in items {
            guard case .string(let jws) = item else {
                throw BundleError(.badSignatures, "`.signatures.json` holds a signature that is not a string")
            }
            signatures.append(try parse(jws: jws))
        }
        return signatures
    }

    /// Splits and decodes one compact JWS (its header strictly; nothing is verified here).
    static func parse(jws: String) throws(BundleError) -> BundleSignature {
        let parts = jws.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
            let headerBytes = Base64URL.decode(parts[0]), let payload = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else {
            throw BundleError(.badSignatures, "a signature is not a compact JWS (three base64url parts)")
        }
        let header: JSONValue
        do {
            header = try headerBytes.withUnsafeBufferPointer { buffer throws(JSONParser.Failure) in
                try JSONParser(maxDepth: 2).parse(buffer)
            }
        } catch {
            throw BundleError(.badSignatures, "a signature's header is not valid JSON: \(error)")
        }
        guard case .object(let fields) = header, case .string(let alg) = fields["alg"] else {
            throw BundleError(.badSignatures, "a signature's header has no `alg`")
        }
        var keyID: String?
        if let kid = fields["kid"] {
            guard case .string(let text) = kid else {
                throw BundleError(.badSignatures, "a signature's `kid` is not a string")
            }
            keyID = text
        }
        let signingInput = Array(parts[0]) + [UInt8(ascii: ".")] + Array(parts[1])
        return BundleSignature(
            algorithm: alg, keyID: keyID, jws: jws, hasExtensions: fields["crit"] != nil || fields["b64"] != nil,
            signingInput: signingInput, payload: payload, signature: signature)
    }

    /// Signs `manifest` with `key`.
    static func sign(manifest: [UInt8], key: BundleSigningKey, keyID: String?) throws(BundleError) -> BundleSignature {
        var header: [String: JSONValue] = ["alg": .string(key.algorithm.id)]
        if let keyID { header["kid"] = .string(keyID) }
        let encodedHeader = Base64URL.encode(Array(JSONValue.object(header).jsonText.utf8))
        let signingInput = Array((encodedHeader + "." + Base64URL.encode(manifest)).utf8)
        let signature = try key.sign(signingInput)
        return try parse(jws: String(decoding: signingInput, as: UTF8.self) + "." + Base64URL.encode(signature))
    }

    /// `.signatures.json`'s bytes.
    static func file(_ signatures: [BundleSignature]) -> [UInt8] {
        Array(JSONValue.object(["signatures": .array(signatures.map { .string($0.jws) })]).jsonText.utf8)
    }

    /// Accepts when one signature of the key's algorithm verifies with `key` over exactly `manifest`.
    static func verify(_ signatures: [BundleSignature], manifest: [UInt8], key: BundleVerificationKey)
        throws(BundleError)
    {
        guard !signatures.isEmpty else {
            throw BundleError(
                .unsigned, "the bundle is not signed, and a verification key is configured",
                help: "sign it with `scopegate bundle sign NAME.bundle --key KEY.pem`")
        }
        var changed = false
        var unsupported: [String] = []
        for signature in signatures {
            guard let algorithm = BundleAlgorithm(id: signature.algorithm), !signature.hasExtensions else {
                unsupported.append(signature.algorithm)
                continue
            }
            guard algorithm == key.algorithm, key.isValidSignature(signature.signature, for: signature.signingInput)
            else { continue }
            if signature.payload == manifest { return }
            changed = true
        }
        if changed {
            throw BundleError(
                .manifestChanged,
                "the signature verifies, but over a different manifest: `.manifest` was changed after signing",
                help: "rebuild and sign the bundle again")
        }
        if unsupported.count == signatures.count {
            let names = unsupported.map { BundleError.quote($0) }.joined(separator: ", ")
            throw BundleError(
                .unsupportedAlgorithm,
                "the bundle's signatures use \(names); only `EdDSA` (Ed25519) and `ES256` (P-256) are accepted, without `crit` extensions"
            )
        }
        let described = signatures.map {
            "\(BundleError.quote($0.algorithm)) key ID \(BundleError.quote($0.keyID ?? "-"))"
        }
        throw BundleError(
            .badSignature,
            "no signature verifies with the \(key.algorithm.id) key (signatures: \(described.joined(separator: "; ")))",
            help: "check that the bundle was signed with the private key of this public key, and was not changed since")
    }
}
