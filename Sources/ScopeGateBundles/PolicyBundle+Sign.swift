extension PolicyBundle {
    /// The bundle with one more signature: a compact JWS over the exact `.manifest` bytes, `alg` from the key
    /// (`EdDSA` or `ES256`), `kid` = `keyID` when given. A signature with the same `kid` is replaced, so signing
    /// again with a key is idempotent in effect; signatures by other keys stay (sign with the old and the new key
    /// while rotating). The manifest and files are unchanged.
    ///
    /// ```swift
    /// let signed = try bundle.signed(with: try BundleSigningKey(contentsOfFile: "signing.pem"), keyID: "2026-12")
    /// ```
    public func signed(with key: BundleSigningKey, keyID: String? = nil) throws(BundleError) -> PolicyBundle {
        if let keyID, let problem = BundleManifest.revisionProblem(keyID) {
            throw BundleError(.badInput, "key ID \(BundleError.quote(keyID)) \(problem)")
        }
        let signature = try BundleSignature.sign(manifest: manifestBytes, key: key, keyID: keyID)
        var kept = signatures.filter { keyID == nil || $0.keyID != keyID }
        guard kept.count < BundleSignature.maxCount else {
            throw BundleError(
                .badSignatures, "the bundle already carries \(BundleSignature.maxCount) signatures",
                help: "rebuild it and sign it with the keys in use now")
        }
        kept.append(signature)
        return PolicyBundle(manifest: manifest, files: files, signatures: kept, manifestBytes: manifestBytes)
    }
}
