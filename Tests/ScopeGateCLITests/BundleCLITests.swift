import Crypto
import Foundation
import Testing

/// `scopegate bundle build|sign|verify|inspect` end to end through the binary, with keys generated here by
/// swift-crypto (PEM written by the test, as `openssl genpkey` writes it) and the archive read back by `tar`.
@Suite("policy bundles through the CLI")
struct BundleCLITests {
    /// A temporary directory with a policy that includes a second file, and an Ed25519 and a P-256 key pair.
    struct Workspace {
        let dir: URL
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

        init() throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-bundle-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent("policy/common"), withIntermediateDirectories: true)
            try Data("version: 1\ninclude: [common/scopes.yaml]\ntools:\n  get_forecast: weather:read\n".utf8)
                .write(to: dir.appendingPathComponent("policy/policy.yaml"))
            try Data("scopes:\n  weather:read: {}\n".utf8).write(
                to: dir.appendingPathComponent("policy/common/scopes.yaml"))
            let ed = Curve25519.Signing.PrivateKey()
            try Self.pem(
                "PRIVATE KEY",
                [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]
                    + ed.rawRepresentation
            )
            .write(to: dir.appendingPathComponent("ed.pem"))
            try Self.pem(
                "PUBLIC KEY",
                [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
                    + ed.publicKey.rawRepresentation
            )
            .write(to: dir.appendingPathComponent("ed.pub.pem"))
            let p256 = P256.Signing.PrivateKey()
            try Data(p256.pemRepresentation.utf8).write(to: dir.appendingPathComponent("p256.pem"))
            try Data(p256.publicKey.pemRepresentation.utf8).write(to: dir.appendingPathComponent("p256.pub.pem"))
            let other = Curve25519.Signing.PrivateKey()
            try Self.pem(
                "PUBLIC KEY",
                [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
                    + other.publicKey.rawRepresentation
            )
            .write(to: dir.appendingPathComponent("other.pub.pem"))
        }

        static func pem(_ label: String, _ der: some Sequence<UInt8>) -> Data {
            Data("-----BEGIN \(label)-----\n\(Data(Array(der)).base64EncodedString())\n-----END \(label)-----\n".utf8)
        }
    }

    let fixedTime = ["SOURCE_DATE_EPOCH": "1796000000"]

    @Test func buildSignVerifyInspect() throws {
        let w = try Workspace()
        let build = try CLIRunner.run(
            ["bundle", "build", w.path("policy/policy.yaml"), "-o", w.path("a.bundle"), "--revision", "v1"],
            environment: fixedTime)
        #expect(build.status == 0, "\(build.stderr)")
        #expect(build.stdout.contains("revision v1, root policy.yaml, 2 files"))

        // Deterministic: a second build (from the directory) is byte-equal.
        let again = try CLIRunner.run(
            ["bundle", "build", w.path("policy"), "-o", w.path("b.bundle"), "--revision", "v1"], environment: fixedTime)
        #expect(again.status == 0)
        #expect(
            try Data(contentsOf: w.dir.appendingPathComponent("a.bundle"))
                == Data(contentsOf: w.dir.appendingPathComponent("b.bundle")))

        let sign = try CLIRunner.run([
            "bundle", "sign", w.path("a.bundle"), "--key", w.path("ed.pem"), "--key-id", "k1",
        ])
        #expect(sign.status == 0, "\(sign.stderr)")
        let both = try CLIRunner.run(
            [
                "bundle", "sign", w.path("a.bundle"), "--key", w.path("p256.pem"), "--key-id", "k2", "-o",
                w.path("c.bundle"),
            ])
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout.contains("ES256 key ID k2, 2 signatures"))

        for key in ["ed.pub.pem", "p256.pub.pem"] {
            let verify = try CLIRunner.run(["bundle", "verify", w.path("c.bundle"), "--key", w.path(key)])
            #expect(verify.status == 0, "\(key): \(verify.stderr)")
            #expect(verify.stdout.contains("verified"))
        }

        let inspect = try CLIRunner.run(["bundle", "inspect", w.path("c.bundle"), "--format", "json"])
        #expect(inspect.status == 0)
        #expect(inspect.stdout.contains(#""revision":"v1""#))
        #expect(inspect.stdout.contains(#""kid":"k2""#))
        #expect(inspect.stdout.contains(#""path":"common/scopes.yaml""#))
        let human = try CLIRunner.run(["bundle", "inspect", w.path("c.bundle")])
        #expect(human.stdout.contains("UNVERIFIED"))
    }

    @Test func tarListsTheBundle() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tar") else { return }
        let w = try Workspace()
        _ = try CLIRunner.run(["bundle", "build", w.path("policy/policy.yaml"), "-o", w.path("a.bundle")])
        _ = try CLIRunner.run(["bundle", "sign", w.path("a.bundle"), "--key", w.path("ed.pem")])
        let tar = try CLIRunner.run(["-tf", w.path("a.bundle")], executable: URL(fileURLWithPath: "/usr/bin/tar"))
        #expect(tar.status == 0, "\(tar.stderr)")
        #expect(tar.stdout == ".manifest\n.signatures.json\ncommon/scopes.yaml\npolicy.yaml\n")
    }

    /// A bundle unpacked and packed again by GNU tar (its own modes, owners and times) still verifies: only the
    /// entries' names and bytes matter.
    @Test func aBundleRepackedByTarStillVerifies() throws {
        let tarPath = "/usr/bin/tar"
        guard FileManager.default.isExecutableFile(atPath: tarPath) else { return }
        let tar = URL(fileURLWithPath: tarPath)
        let w = try Workspace()
        _ = try CLIRunner.run(["bundle", "build", w.path("policy/policy.yaml"), "-o", w.path("a.bundle")])
        _ = try CLIRunner.run(["bundle", "sign", w.path("a.bundle"), "--key", w.path("ed.pem")])
        try FileManager.default.createDirectory(atPath: w.path("x"), withIntermediateDirectories: true)
        let unpack = try CLIRunner.run(["-xf", w.path("a.bundle"), "-C", w.path("x")], executable: tar)
        #expect(unpack.status == 0, "\(unpack.stderr)")
        let entries = [".manifest", ".signatures.json", "common/scopes.yaml", "policy.yaml"]
        let pack = try CLIRunner.run(
            ["--format=ustar", "-cf", w.path("b.bundle"), "-C", w.path("x")] + entries, executable: tar)
        #expect(pack.status == 0, "\(pack.stderr)")
        let verify = try CLIRunner.run(["bundle", "verify", w.path("b.bundle"), "--key", w.path("ed.pub.pem")])
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func refusalsExitOneWithTheReason() throws {
        let w = try Workspace()
        _ = try CLIRunner.run(["bundle", "build", w.path("policy/policy.yaml"), "-o", w.path("a.bundle")])

        let unsigned = try CLIRunner.run(["bundle", "verify", w.path("a.bundle"), "--key", w.path("ed.pub.pem")])
        #expect(unsigned.status == 1)
        #expect(unsigned.stderr.contains("SGB09"))

        _ = try CLIRunner.run(["bundle", "sign", w.path("a.bundle"), "--key", w.path("ed.pem")])
        let wrong = try CLIRunner.run(["bundle", "verify", w.path("a.bundle"), "--key", w.path("other.pub.pem")])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("SGB10"))

        // Change one byte of a policy file inside the archive (its hash no longer matches).
        var bytes = try [UInt8](Data(contentsOf: w.dir.appendingPathComponent("a.bundle")))
        let needle = Array("get_forecast".utf8)
        let at = try #require(
            (0...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle })
        bytes[at] = UInt8(ascii: "G")
        try Data(bytes).write(to: w.dir.appendingPathComponent("t.bundle"))
        let tampered = try CLIRunner.run(["bundle", "verify", w.path("t.bundle"), "--key", w.path("ed.pub.pem")])
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("SGB06"))
        #expect(tampered.stderr.contains("policy.yaml"))

        try Data("garbage".utf8).write(to: w.dir.appendingPathComponent("g.bundle"))
        let garbage = try CLIRunner.run(["bundle", "inspect", w.path("g.bundle")])
        #expect(garbage.status == 1)
        #expect(garbage.stderr.contains("SGB01"))
    }

    @Test func inputProblemsExitTwo() throws {
        let w = try Workspace()
        try Data("version: 1\ntools:\n  get: missing:scope\n".utf8).write(to: w.dir.appendingPathComponent("bad.yaml"))
        let bad = try CLIRunner.run(["bundle", "build", w.path("bad.yaml"), "-o", w.path("x.bundle")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("SGB15"))
        #expect(!FileManager.default.fileExists(atPath: w.path("x.bundle")))

        _ = try CLIRunner.run(["bundle", "build", w.path("policy/policy.yaml"), "-o", w.path("a.bundle")])
        let privateAsPublic = try CLIRunner.run(["bundle", "verify", w.path("a.bundle"), "--key", w.path("ed.pem")])
        #expect(privateAsPublic.status == 2)
        #expect(privateAsPublic.stderr.contains("SGB14"))
        let missingKey = try CLIRunner.run(["bundle", "sign", w.path("a.bundle"), "--key", w.path("nope.pem")])
        #expect(missingKey.status == 2)
        let usage = try CLIRunner.run(["bundle", "build", w.path("policy/policy.yaml")])
        #expect(usage.status == 2)
    }
}
