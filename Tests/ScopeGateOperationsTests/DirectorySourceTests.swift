import Foundation
import ScopeGate
import ScopeGateOperations
import Testing

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A directory as the policy source: its `policy.yaml` is the root, includes resolve beside it, and the reloader
/// sees a change however it arrives, also through the links of a Kubernetes ConfigMap volume.
@Suite(.serialized) struct DirectorySourceTests {
    let root = "version: 1\ninclude: [tools.yaml]\nscopes:\n  files:read: {}\n  files:edit: {}\n"
    let readTools = "tools:\n  read_file: files:read\n"
    let editTools = "tools:\n  read_file: files:edit\n"  // the same size as readTools

    func allowsRead(_ store: PolicyStore) -> Bool {
        let policy = store.current.policy
        return policy.isAllowed(.tool("read_file"), grant: policy.grant(["files:read"]))
    }

    func makeDirectory() throws -> String {
        let directory = temporaryPath("policy-dir")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aDirectoryIsLoadedFromItsPolicyFileAndReloadedWhenAnIncludeChanges() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try root.write(toFile: directory + "/policy.yaml", atomically: true, encoding: .utf8)
        try readTools.write(toFile: directory + "/tools.yaml", atomically: true, encoding: .utf8)
        let store = try PolicyStore(path: directory)
        let reloader = PolicyReloader(store: store, path: directory)
        #expect(allowsRead(store))
        #expect(!reloader.poll())

        try editTools.write(toFile: directory + "/tools.yaml", atomically: true, encoding: .utf8)
        #expect(reloader.poll())
        #expect(!allowsRead(store))
    }

    @Test func aConfigMapUpdateThroughItsLinksIsSeen() throws {
        // The kubelet's layout: each key is a link into `..data`, itself a link to a timestamped directory that
        // an update replaces by re-pointing `..data` with a rename.
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let manager = FileManager.default
        func publish(_ tools: String, as version: String) throws {
            let target = directory + "/" + version
            try manager.createDirectory(atPath: target, withIntermediateDirectories: true)
            try root.write(toFile: target + "/policy.yaml", atomically: true, encoding: .utf8)
            try tools.write(toFile: target + "/tools.yaml", atomically: true, encoding: .utf8)
            try manager.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: version)
            #expect(rename(directory + "/..data_tmp", directory + "/..data") == 0)
        }
        try publish(readTools, as: "..2026_12_05_a")
        for name in ["policy.yaml", "tools.yaml"] {
            try manager.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: "..data/" + name)
        }
        let store = try PolicyStore(path: directory)
        let reloader = PolicyReloader(store: store, path: directory)
        #expect(allowsRead(store))
        #expect(!reloader.poll())

        try publish(editTools, as: "..2026_12_05_b")
        #expect(reloader.poll())
        #expect(!allowsRead(store))
    }

    @Test func aDirectoryWithoutAPolicyFileIsAClearError() throws {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try readTools.write(toFile: directory + "/tools.yaml", atomically: true, encoding: .utf8)
        let result = PolicyCompiler().compile(path: directory)
        #expect(result.model == nil)
        let diagnostic = result.diagnostics.first { $0.code == .unreadableFile }
        #expect(diagnostic?.message.contains("has no `policy.yaml` or `policy.yml`") == true)

        try root.write(toFile: directory + "/policy.yml", atomically: true, encoding: .utf8)
        #expect(PolicyCompiler().compile(path: directory).model != nil)
    }
}
