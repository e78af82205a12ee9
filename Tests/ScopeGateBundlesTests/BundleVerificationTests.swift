import Crypto
import Foundation
import ScopeGate
import Testing

@testable import ScopeGateBundles

/// Every way a signed bundle can be refused, for both algorithms.
@Suite struct BundleVerificationTests {
    static let algorithms: [String] = ["EdDSA", "ES256"]

    static func key(_ alg: String) -> BundleSigningKey { alg == "EdDSA" ? TestKeys.ed25519() : TestKeys.p256() }

    func signedBundle(_ alg: String) throws -> (bytes: [UInt8], key: BundleSigningKey) {
        let tree = try PolicyTree()
        let key = Self.key(alg)
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], revision: "r1", now: buildTime)
            .signed(with: key, keyID: "k1")
        return (bundle.archive(), key)
    }

    @Test(arguments: algorithms) func aSignedBundleVerifies(alg: String) throws {
        let (bytes, key) = try signedBundle(alg)
        let opened = try PolicyBundle.open(bytes, key: key.verificationKey)
        #expect(opened.revision == "r1")
        #expect(opened.signatures.map(\.algorithm) == [alg])
        #expect(opened.signatures.map(\.keyID) == ["k1"])
        #expect(try entries(bytes).map(\.0) == [".manifest", ".signatures.json", "common/scopes.yaml", "policy.yaml"])
    }

    @Test(arguments: algorithms) func theWrongKeyIsRefused(alg: String) throws {
        let (bytes, _) = try signedBundle(alg)
        #expect(code { _ = try PolicyBundle.open(bytes, key: Self.key(alg).verificationKey) } == .badSignature)
        // A key of the other algorithm does not verify either.
        #expect(
            code { _ = try PolicyBundle.open(bytes, key: Self.key(alg == "EdDSA" ? "ES256" : "EdDSA").verificationKey) }
                == .badSignature)
    }

    @Test(arguments: algorithms) func aChangedFileIsRefused(alg: String) throws {
        let (bytes, key) = try signedBundle(alg)
        let tampered = try entries(bytes).map { entry in
            entry.0 == "policy.yaml" ? (entry.0, entry.1 + Array("\n  delete_all: weather:read\n".utf8)) : entry
        }
        #expect(code { _ = try PolicyBundle.open(archive(tampered), key: key.verificationKey) } == .hashMismatch)
        #expect(code { _ = try PolicyBundle.open(archive(tampered), key: nil) } == .hashMismatch)
    }

    @Test(arguments: algorithms) func aMissingOrExtraFileIsRefused(alg: String) throws {
        let (bytes, key) = try signedBundle(alg)
        let all = try entries(bytes)
        let missing = all.filter { $0.0 != "common/scopes.yaml" }
        #expect(code { _ = try PolicyBundle.open(archive(missing), key: key.verificationKey) } == .missingFile)
        let extra = all + [("extra.yaml", Array("tools: {}\n".utf8))]
        #expect(code { _ = try PolicyBundle.open(archive(extra), key: key.verificationKey) } == .extraFile)
    }

    @Test(arguments: algorithms) func aManifestChangedAfterSigningIsRefused(alg: String) throws {
        let (bytes, key) = try signedBundle(alg)
        let all = try entries(bytes)
        let manifest = try BundleManifest.decode(try #require(all.first { $0.0 == ".manifest" }).1)
        var changed = manifest
        changed.revision = "r2"
        let tampered = all.map { $0.0 == ".manifest" ? ($0.0, changed.encoded()) : $0 }
        #expect(code { _ = try PolicyBundle.open(archive(tampered), key: key.verificationKey) } == .manifestChanged)
        // Without a key the manifest is only checked against the files, which still match.
        #expect(try PolicyBundle.open(archive(tampered), key: nil).revision == "r2")
    }

    @Test(arguments: algorithms) func aChangedSignatureIsRefused(alg: String) throws {
        let (bytes, key) = try signedBundle(alg)
        let tampered = try entries(bytes).map { entry -> (String, [UInt8]) in
            guard entry.0 == ".signatures.json" else { return entry }
            var text = entry.1
            // Flip one character of the signature part (before the closing `"]}`).
            let i = text.count - 5
            text[i] = text[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            return (entry.0, text)
        }
        let result = code { _ = try PolicyBundle.open(archive(tampered), key: key.verificationKey) }
        #expect(result == .badSignature || result == .badSignatures)
    }

    @Test func anUnsignedBundleIsRefusedWhenAKeyIsGiven() throws {
        let tree = try PolicyTree()
        let bytes = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).archive()
        #expect(code { _ = try PolicyBundle.open(bytes, key: TestKeys.ed25519().verificationKey) } == .unsigned)
        #expect(code { _ = try PolicyBundle.open(bytes, key: nil) } == nil)
    }

    @Test(arguments: ["none", "HS256", "RS256"]) func unsupportedAlgorithmsAreRefused(alg: String) throws {
        let tree = try PolicyTree()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
        let all = try entries(bundle.archive())
        let manifest = try #require(all.first { $0.0 == ".manifest" }).1
        let header = Base64URL.encode(Array(#"{"alg":"\#(alg)"}"#.utf8))
        let jws = header + "." + Base64URL.encode(manifest) + "." + (alg == "none" ? "" : Base64URL.encode([1, 2, 3]))
        let signatures = Array(#"{"signatures":["\#(jws)"]}"#.utf8)
        let forged = [all[0], (".signatures.json", signatures)] + all.dropFirst()
        #expect(
            code { _ = try PolicyBundle.open(archive(forged), key: TestKeys.ed25519().verificationKey) }
                == .unsupportedAlgorithm)
    }

    @Test func critExtensionsAreRefused() throws {
        let tree = try PolicyTree()
        let key = TestKeys.ed25519()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
        let all = try entries(bundle.archive())
        let manifest = try #require(all.first { $0.0 == ".manifest" }).1
        // A real Ed25519 signature, but over a header that lists `crit`.
        let header = Base64URL.encode(Array(#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#.utf8))
        let input = Array((header + "." + Base64URL.encode(manifest)).utf8)
        let signature = try key.sign(input)
        let jws = String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(signature)
        let forged = [all[0], (".signatures.json", Array(#"{"signatures":["\#(jws)"]}"#.utf8))] + all.dropFirst()
        #expect(code { _ = try PolicyBundle.open(archive(forged), key: key.verificationKey) } == .unsupportedAlgorithm)
    }

    @Test func malformedSignatureFilesAreRefused() throws {
        let tree = try PolicyTree()
        let all = try entries(try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).archive())
        for text in [#"{"signatures":[]}"#, #"{"signatures":"x"}"#, "[]", "not json", #"{"signatures":["a.b"]}"#] {
            let forged = [all[0], (".signatures.json", Array(text.utf8))] + all.dropFirst()
            #expect(code { _ = try PolicyBundle.open(archive(forged), key: nil) } == .badSignatures, "\(text)")
        }
    }

    @Test func rotationKeepsSignaturesOfOtherKeys() throws {
        let tree = try PolicyTree()
        let old = TestKeys.ed25519()
        let new = TestKeys.p256()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
            .signed(with: old, keyID: "old").signed(with: new, keyID: "new")
        let bytes = bundle.archive()
        #expect(try PolicyBundle.open(bytes, key: old.verificationKey).signatures.count == 2)
        #expect(try PolicyBundle.open(bytes, key: new.verificationKey).signatures.count == 2)
        // Signing again with a known key ID replaces that signature.
        #expect(try bundle.signed(with: TestKeys.ed25519(), keyID: "old").signatures.count == 2)
    }

    @Test(arguments: algorithms) func keysRoundTripThroughPEM(alg: String) throws {
        let key = Self.key(alg)
        let reread = try BundleSigningKey(pem: key.pem)
        #expect(reread.algorithm.id == alg)
        let tree = try PolicyTree()
        let bytes = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).signed(with: reread)
            .archive()
        let publicKey = try BundleVerificationKey(pem: key.verificationKey.pem)
        #expect(try PolicyBundle.open(bytes, key: publicKey).isSigned)
        // Each side refuses the other kind of key.
        #expect(code { _ = try BundleVerificationKey(pem: key.pem) } == .badKey)
        #expect(code { _ = try BundleSigningKey(pem: key.verificationKey.pem) } == .badKey)
    }

    @Test func opensslKeysAreRead() throws {
        // TEST FIXTURE ONLY: a throwaway key pair made for this test with `openssl genpkey -algorithm ed25519` and
        // `openssl pkey -pubout`; it signs nothing real. It checks that OpenSSL's PEM is read as written.
        let privatePEM = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEIHhmeSDeOvLQWcyRNWdC10O6cZ3ZYd+CAk2oCB+nCu03
            -----END PRIVATE KEY-----
            """
        let publicPEM = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAeupGG52XDorlzxJoegPukL5ka4yXD2rzv/zcDoEtcQQ=
            -----END PUBLIC KEY-----
            """
        let key = try BundleSigningKey(pem: privatePEM)
        #expect(key.algorithm == .edDSA)
        #expect(try BundleVerificationKey(pem: publicPEM).pem == key.verificationKey.pem)
        for garbage in ["", "hello", "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----\n"] {
            #expect(code { _ = try BundleVerificationKey(pem: garbage) } == .badKey)
        }
    }
}
