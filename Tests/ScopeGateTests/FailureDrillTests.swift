import Foundation
import Testing

@testable import ScopeGate

/// Failure drills for policy reload from disk (`PolicyStore.reload(path:)`): the file is deleted, truncated
/// mid-write, replaced by a broken one, replaced by something that is not a policy at all. Documented behaviour
/// (docs/reliability.md): a policy with errors never replaces a good one, the last good version keeps
/// deciding, and no request the policy in force denies is ever allowed. Results are tabulated in
/// docs/reliability.md.
@Suite struct PolicyFailureDrillTests {
    /// A policy whose decisions are easy to probe: `transfer` needs `pay:write`, and `pay:large` above 1000;
    /// `admin_tool` needs `admin`; `read_file` needs `read`.
    static let good = """
        version: 1
        scopes:
          read: {}
          pay:write: {}
          pay:large: { risk: sensitive }
          admin: { risk: admin, implies: [read] }
        tools:
          read_file: read
          admin_tool: admin
          transfer:
            requires: pay:write
            when:
              - arguments: { amount: { gt: 1000 } }
                requires: pay:large

        """

    /// Probe calls and grants, with what `good` decides for each.
    static let probes: [(call: Call, granted: [String], allowed: Bool)] = [
        (.tool("read_file"), ["read"], true),
        (.tool("read_file"), [], false),
        (.tool("admin_tool"), ["read", "pay:write"], false),
        (.tool("admin_tool"), ["admin"], true),
        (.tool("transfer", arguments: ["amount": .number(10)]), ["pay:write"], true),
        (.tool("transfer", arguments: ["amount": .number(5000)]), ["pay:write"], false),
        (.tool("transfer", arguments: ["amount": .number(5000)]), ["pay:write", "pay:large"], true),
        (.tool("transfer", arguments: ["amount": .string("5000")]), ["pay:write"], false),  // wrong type: fail closed
        (.tool("delete_everything"), ["admin", "read", "pay:write", "pay:large"], false),
    ]

    /// Asserts the snapshot decides every probe exactly as `good` does; returns how many it got right.
    @discardableResult
    static func expectGoodDecisions(_ snapshot: PolicySnapshot, _ context: String) -> Int {
        var right = 0
        for probe in probes {
            let policy = snapshot.policy
            let decision = policy.decide(probe.call, grant: policy.grant(probe.granted))
            #expect(decision.allowed == probe.allowed, "\(context): \(probe.call.name) with \(probe.granted)")
            if decision.allowed == probe.allowed { right += 1 }
        }
        return right
    }

    /// A fresh directory with `policy.yaml` holding `good`, and a store loaded from it.
    static func setUp() throws -> (dir: URL, path: String, store: PolicyStore) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-drill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("policy.yaml").path
        try good.write(toFile: path, atomically: true, encoding: .utf8)
        let store = try PolicyStore(path: path, compiler: PolicyCompiler(options: LoadOptions(environment: [:])))
        return (dir, path, store)
    }

    static func isRejected(_ outcome: ReloadOutcome) -> Bool {
        if case .rejected = outcome { return true }
        return false
    }

    @Test func fileDeletedKeepsLastGood() throws {
        let (dir, path, store) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = store.current.version
        try FileManager.default.removeItem(atPath: path)
        let outcome = store.reload(path: path)
        guard case .rejected(let diagnostics, _) = outcome else {
            Issue.record("a deleted policy file was swapped in")
            return
        }
        #expect(diagnostics.contains { $0.code == .unreadableFile })
        #expect(store.current.version == before)
        #expect(Self.expectGoodDecisions(store.current, "after delete") == Self.probes.count)
        // The file comes back: the next reload picks it up with the next load counter.
        try Self.good.write(toFile: path, atomically: true, encoding: .utf8)
        guard case .swapped(let snapshot, _) = store.reload(path: path) else {
            Issue.record("the restored policy was rejected")
            return
        }
        #expect(snapshot.version.hasSuffix("-2"))
    }

    @Test(arguments: [
        ("undefined scope", "version: 1\nscopes: { read: {} }\ntools: { read_file: reed }\n"),
        (
            "typo'd key drops nothing",
            "version: 1\nscopes: { pay:write: {} }\ntools: { transfer: { requries: pay:write } }\n"
        ),
        ("YAML syntax", "version: 1\nscopes: { read: {\n"),
        ("not UTF-8", "version: 1\nscopes: { r\u{FFFD}: {} }\n"),
        ("empty file", ""),
        ("comments only", "# policy being rewritten\n\n"),
        ("binary garbage", "\u{0}\u{1}\u{2}\u{7F}ELF"),
        (
            "missing include",
            "version: 1\ninclude: [does-not-exist.yaml]\nscopes: { read: {} }\ntools: { read_file: read }\n"
        ),
        ("implication cycle", "version: 1\nscopes: { a: { implies: [b] }, b: { implies: [a] } }\ntools: { t: a }\n"),
    ])
    func replacedByBrokenKeepsLastGood(_ name: String, _ text: String) throws {
        let (dir, path, store) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = store.current.version
        var bytes = Array(text.utf8)
        if name == "not UTF-8" {
            bytes = Array("version: 1\nscopes: { r".utf8) + [0xC3, 0x28] + Array(": {} }\n".utf8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let outcome = store.reload(path: path)
        #expect(Self.isRejected(outcome), "\(name): a broken policy was swapped in")
        #expect(store.current.version == before)
        #expect(Self.expectGoodDecisions(store.current, name) == Self.probes.count)
    }

    @Test func oversizedFileIsRejectedBeforeParsing() throws {
        let (dir, path, _) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        var options = LoadOptions(environment: [:])
        options.maxFileBytes = 4096
        let store = try PolicyStore(path: path, compiler: PolicyCompiler(options: options))
        // A valid policy padded with a comment past the limit: still refused.
        try (Self.good + "# " + String(repeating: "x", count: 8192) + "\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        guard case .rejected(let diagnostics, _) = store.reload(path: path) else {
            Issue.record("an oversized policy was swapped in")
            return
        }
        #expect(diagnostics.contains { $0.code == .fileTooLarge })
        Self.expectGoodDecisions(store.current, "oversized")
    }

    /// The file is cut at every byte offset (a non-atomic writer, a full disk). Every prefix that has errors
    /// must be rejected with the last good version kept. A prefix that happens to be a valid policy *is* swapped
    /// in — the store cannot know the file is incomplete — so the drill also measures how many prefixes would
    /// allow a probe that the full policy denies (reported in docs/reliability.md: write policies atomically).
    @Test func truncatedMidWriteAtEveryOffset() throws {
        let (dir, path, store) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let full = Array(Self.good.utf8)
        var rejected = 0
        var swapped = 0
        var morePermissive: [Int] = []
        for cut in 0..<full.count {
            // Restore the good policy first, so every cut starts from it.
            try Data(full).write(to: URL(fileURLWithPath: path))
            guard case .swapped = store.reload(path: path) else {
                Issue.record("the good policy was rejected")
                return
            }
            let before = store.current.version
            try Data(full[0..<cut]).write(to: URL(fileURLWithPath: path))
            switch store.reload(path: path) {
            case .rejected:
                rejected += 1
                #expect(store.current.version == before, "cut at \(cut): version changed on a rejected reload")
                #expect(Self.expectGoodDecisions(store.current, "cut at \(cut)") == Self.probes.count)
            case .swapped(let snapshot, _):
                swapped += 1
                // What went in is exactly that prefix compiled on its own (no mix with the previous version).
                #expect(
                    snapshot.policy.model.contentHash
                        == PolicyCompiler(options: LoadOptions(environment: [:])).compile(
                            source: String(decoding: full[0..<cut], as: UTF8.self)
                        ).model?.contentHash)
                let policy = snapshot.policy
                if Self.probes.contains(where: {
                    !$0.allowed && policy.decide($0.call, grant: policy.grant($0.granted)).allowed
                }) {
                    morePermissive.append(cut)
                }
            }
        }
        print(
            "truncation drill: \(full.count) cuts, \(rejected) rejected, \(swapped) swapped in, "
                + "\(morePermissive.count) of them more permissive than the full policy (cuts \(morePermissive.first ?? -1)…\(morePermissive.last ?? -1))"
        )
        #expect(rejected + swapped == full.count)
        #expect(rejected > full.count / 2, "most truncations must be rejected")
    }

    /// A writer that replaces the file atomically (write a temporary file, rename over) while another thread
    /// reloads continuously: every reload sees a whole file, so none is rejected and every version decides
    /// exactly as one of the two policies.
    @Test func atomicReplaceWhileReloadingNeverSeesAPartialFile() async throws {
        let (dir, path, store) = try Self.setUp()
        defer { try? FileManager.default.removeItem(at: dir) }
        let stricter = Self.good.replacingOccurrences(of: "read_file: read", with: "read_file: admin")
        let writes = 200
        let done = LockedValue(false)
        let writer = Task.detached {
            for i in 0..<writes {
                let text = i % 2 == 0 ? stricter : Self.good
                try? text.write(toFile: path, atomically: true, encoding: .utf8)  // temp file + rename
                await Task.yield()
            }
            done.withLock { $0 = true }
        }
        var rejected = 0
        var reloads = 0
        var strict = 0
        var lenient = 0
        var other = 0
        while true {
            let finished = done.withLock { $0 }
            reloads += 1
            if Self.isRejected(store.reload(path: path)) { rejected += 1 }
            let policy = store.current.policy
            let readAllowed = policy.decide(.tool("read_file"), grant: policy.grant(["read"])).allowed
            let adminDenied = !policy.decide(.tool("admin_tool"), grant: policy.grant(["read"])).allowed
            if !adminDenied { other += 1 } else if readAllowed { lenient += 1 } else { strict += 1 }
            if reloads >= 2_000 || finished { break }
            await Task.yield()
        }
        await writer.value
        print(
            "atomic replace drill: \(reloads) reloads, \(rejected) rejected; versions seen: lenient \(lenient), strict \(strict)"
        )
        #expect(rejected == 0)
        #expect(other == 0)
        #expect(lenient + strict == reloads)
    }
}
