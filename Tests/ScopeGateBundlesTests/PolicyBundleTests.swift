import Foundation
import ScopeGate
import Testing

@testable import ScopeGateBundles

@Suite struct PolicyBundleTests {
    @Test func buildCollectsIncludesRelativeToTheRoot() throws {
        let tree = try PolicyTree()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
        #expect(bundle.files.map(\.path) == ["common/scopes.yaml", "policy.yaml"])
        #expect(bundle.manifest.root == "policy.yaml")
        #expect(bundle.files.first?.bytes == Array(PolicyTree.scopes.utf8))
        #expect(bundle.manifest.files["policy.yaml"] == BundleFile(path: "", bytes: Array(PolicyTree.root.utf8)).sha256)
        #expect(bundle.manifest.built == buildTime)
        #expect(bundle.revision.count == 64)
        #expect(!bundle.isSigned)
    }

    @Test func roundTripThroughTheArchive() throws {
        let tree = try PolicyTree()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], revision: "v42", now: buildTime)
        let opened = try PolicyBundle.open(bundle.archive(), key: nil)
        #expect(opened.manifest == bundle.manifest)
        #expect(opened.files == bundle.files)
        #expect(opened.revision == "v42")
        #expect(opened.archive() == bundle.archive())
    }

    @Test func twoBuildsAreByteEqual() throws {
        let tree = try PolicyTree()
        let a = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).archive()
        let b = try PolicyBundle.build(policy: [tree.directory], now: buildTime).archive()
        #expect(a == b)
        let later = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime + 1).archive()
        #expect(later != a)  // the build time is part of the manifest
    }

    @Test func theContentRevisionFollowsTheContent() throws {
        let tree = try PolicyTree()
        let before = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).revision
        let again = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime + 60).revision
        try tree.write("common/scopes.yaml", PolicyTree.scopes + "\n  weather:admin: {}\n")
        let after = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).revision
        #expect(before == again)
        #expect(before != after)
    }

    @Test func extractWritesTheFilesAndTheRootCompiles() throws {
        let tree = try PolicyTree()
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
        let target = tree.path("out/rev")
        let root = try bundle.extract(to: target)
        #expect(root.hasSuffix("/out/rev/policy.yaml"))
        let policy = try PolicyCompiler().compile(path: root).compiled()
        #expect(policy.model.tools.count == 2)
        // A second extraction into the same (now non-empty) directory is refused.
        #expect(code { _ = try bundle.extract(to: target) } == .extractFailed)
    }

    @Test func aPolicyWithErrorsIsRefusedWithItsDiagnostics() throws {
        let tree = try PolicyTree(files: ["policy.yaml": "version: 1\ntools:\n  get: nope:scope\n"])
        do {
            _ = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime)
            Issue.record("built a policy with errors")
        } catch {
            #expect(error.code == .policyErrors)
            #expect(error.diagnostics.hasErrors)
        }
    }

    @Test func anIncludeOutsideTheRootDirectoryIsRefused() throws {
        let tree = try PolicyTree(files: [
            "app/policy.yaml": "version: 1\ninclude: [../shared.yaml]\ntools:\n  get: r\n",
            "shared.yaml": "scopes:\n  r: {}\n",
        ])
        #expect(
            code { _ = try PolicyBundle.build(policy: [tree.path("app/policy.yaml")], now: buildTime) } == .outsideRoot)
    }

    @Test func extraFilesAndDirectoriesAreAdded() throws {
        let tree = try PolicyTree()
        try tree.write("tests/weather.test.yaml", "cases: []\n")
        try tree.write("tests/notes.txt", "not yaml\n")
        let bundle = try PolicyBundle.build(policy: [tree.path("policy.yaml"), tree.path("tests")], now: buildTime)
        #expect(bundle.files.map(\.path) == ["common/scopes.yaml", "policy.yaml", "tests/weather.test.yaml"])
        let outside = try PolicyTree()
        #expect(
            code {
                _ = try PolicyBundle.build(
                    policy: [tree.path("policy.yaml"), outside.path("policy.yaml")], now: buildTime)
            }
                == .outsideRoot)
    }

    @Test func badInputsAreRefused() throws {
        let tree = try PolicyTree()
        #expect(code { _ = try PolicyBundle.build(policy: [], now: buildTime) } == .badInput)
        #expect(code { _ = try PolicyBundle.build(policy: [tree.path("missing.yaml")], now: buildTime) } == .badInput)
        #expect(code { _ = try PolicyBundle.build(policy: [tree.path("common")], now: buildTime) } == .badInput)
        #expect(
            code { _ = try PolicyBundle.build(policy: [tree.path("policy.yaml")], revision: "a b", now: buildTime) }
                == .badInput)
    }

    @Test func theArchiveIsPlainUStar() throws {
        let tree = try PolicyTree()
        let bytes = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).archive()
        #expect(bytes.count % 512 == 0)
        #expect(Array(bytes[257..<263]) == Array("ustar\u{0}".utf8))
        #expect(try entries(bytes).map(\.0) == [".manifest", "common/scopes.yaml", "policy.yaml"])
        // mode 0644, uid/gid 0, mtime 0 in every header.
        #expect(Array(bytes[100..<108]) == Array("0000644\u{0}".utf8))
        #expect(Array(bytes[136..<148]) == Array("00000000000\u{0}".utf8))
    }
}
