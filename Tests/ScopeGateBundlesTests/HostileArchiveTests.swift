import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGateBundles

/// The reader on hostile input: every failure is a `BundleError` with a code, never a trap, and the work is
/// bounded before it is done.
@Suite struct HostileArchiveTests {
    /// A valid unsigned bundle's archive.
    func valid() throws -> [UInt8] {
        let tree = try PolicyTree()
        return try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).archive()
    }

    /// A header for `path` with the given type flag and size field, checksum fixed up.
    func header(path: String, type: UInt8 = UInt8(ascii: "0"), size: [UInt8]? = nil) -> [UInt8] {
        var h = UStar.header(path: "x", size: 0)
        for i in 0..<100 { h[i] = 0 }
        for (i, byte) in Array(path.utf8).prefix(100).enumerated() { h[i] = byte }
        h[156] = type
        if let size { for i in 0..<12 { h[124 + i] = i < size.count ? size[i] : 0 } }
        let sum = UStar.checksum(h)
        for (i, byte) in UStar.octal(sum, width: 7).enumerated() { h[148 + i] = byte }
        h[155] = UInt8(ascii: " ")
        return h
    }

    let end = [UInt8](repeating: 0, count: 1024)

    @Test func garbageIsNotABundle() throws {
        #expect(code { _ = try PolicyBundle.open([], key: nil) } == .malformedArchive)
        #expect(code { _ = try PolicyBundle.open(Array("hello".utf8), key: nil) } == .malformedArchive)
        #expect(
            code { _ = try PolicyBundle.open([0x1F, 0x8B] + [UInt8](repeating: 7, count: 1022), key: nil) }
                == .malformedArchive)
        #expect(
            code { _ = try PolicyBundle.open([UInt8](repeating: 0x41, count: 4096), key: nil) } == .malformedArchive)
        // An archive with no `.manifest` is not a bundle either.
        #expect(code { _ = try PolicyBundle.open(end, key: nil) } == .badManifest)
    }

    @Test func truncationAnywhereIsRefused() throws {
        let bytes = try valid()
        for cut in 1..<(bytes.count - 1024) {
            #expect(code { _ = try PolicyBundle.open(Array(bytes[..<cut]), key: nil) } != nil, "cut at \(cut)")
        }
    }

    @Test(arguments: [
        "../evil.yaml", "/etc/passwd", "a//b.yaml", "a/./b.yaml", "a/../../b.yaml", "a\\b.yaml", "x\u{1}.yaml",
    ])
    func unsafePathsAreRefused(path: String) throws {
        let bytes = header(path: path) + end
        #expect(code { _ = try PolicyBundle.open(bytes, key: nil) } == .unsafeEntry)
    }

    @Test(arguments: ["1", "2", "5", "3", "x", "L"]) func nonRegularEntriesAreRefused(type: String) throws {
        let bytes = header(path: "link.yaml", type: Array(type.utf8)[0]) + end
        #expect(code { _ = try PolicyBundle.open(bytes, key: nil) } == .unsafeEntry)
    }

    @Test func hugeSizesAreRefusedBeforeReading() throws {
        let bytes = header(path: "big.yaml", size: Array("77777777777\u{0}".utf8)) + end
        #expect(code { _ = try PolicyBundle.open(bytes, key: nil) } == .tooLarge)
        // GNU base-256 sizes are not read at all.
        let base256 = header(path: "big.yaml", size: [0x80] + [UInt8](repeating: 0xFF, count: 11)) + end
        #expect(code { _ = try PolicyBundle.open(base256, key: nil) } == .malformedArchive)
        var limits = BundleLimits()
        limits.maxArchiveBytes = 1024
        #expect(code { _ = try PolicyBundle.open(try valid(), key: nil, limits: limits) } == .tooLarge)
    }

    @Test func tooManyEntriesAreRefused() throws {
        var limits = BundleLimits()
        limits.maxEntries = 2
        #expect(code { _ = try PolicyBundle.open(try valid(), key: nil, limits: limits) } == .tooLarge)
    }

    @Test func duplicateNamesAreRefused() throws {
        let all = try entries(try valid())
        #expect(code { _ = try PolicyBundle.open(archive(all + [all[1]]), key: nil) } == .duplicateEntry)
    }

    @Test func aBadChecksumOrTrailingDataIsRefused() throws {
        var bytes = try valid()
        bytes[0] ^= 0x01  // the first header's name, without fixing the checksum
        #expect(code { _ = try PolicyBundle.open(bytes, key: nil) } == .malformedArchive)
        #expect(code { _ = try PolicyBundle.open(try valid() + [1], key: nil) } == .malformedArchive)
        // Zero padding after the end marker (as tar's blocking adds) is fine.
        #expect(code { _ = try PolicyBundle.open(try valid() + [UInt8](repeating: 0, count: 8192), key: nil) } == nil)
    }

    @Test func badManifestsAreRefused() throws {
        let all = try entries(try valid())
        let files = all.dropFirst()
        for text in [
            "[]", "{}", #"{"format":2,"revision":"r","root":"policy.yaml","built":"2026-12-05T00:00:00Z","files":{}}"#,
            #"{"format":1,"revision":"r r","root":"policy.yaml","built":"2026-12-05T00:00:00Z","files":{}}"#,
            #"{"format":1,"revision":"r","root":"nope.yaml","built":"2026-12-05T00:00:00Z","files":{}}"#,
            #"{"format":1,"revision":"r","root":"policy.yaml","built":"yesterday","files":{"policy.yaml":"00"}}"#,
        ] {
            let result = code {
                _ = try PolicyBundle.open(archive([(".manifest", Array(text.utf8))] + files), key: nil)
            }
            #expect(result == .badManifest || result == .unsupportedFormat, "\(text)")
        }
        let traversal =
            #"{"format":1,"revision":"r","root":"../x","built":"2026-12-05T00:00:00Z","files":{"../x":"\#(String(repeating: "0", count: 64))"}}"#
        #expect(
            code { _ = try PolicyBundle.open(archive([(".manifest", Array(traversal.utf8))]), key: nil) }
                == .unsafeEntry)
    }

    /// Seeded single-byte mutations and truncations of a signed bundle: each is refused with a code or, when the
    /// byte did not matter (padding), opens; none traps.
    @Test func mutationsNeverTrap() throws {
        let tree = try PolicyTree()
        let key = TestKeys.ed25519()
        let bytes = try PolicyBundle.build(policy: [tree.path("policy.yaml")], now: buildTime).signed(with: key)
            .archive()
        var generator = SplitMix64(seed: 0x5C0_9E6A7E)
        var refused = 0
        for _ in 0..<1500 {
            var mutated = bytes
            let position = Int(generator.next() % UInt64(bytes.count))
            mutated[position] = UInt8(truncatingIfNeeded: generator.next())
            if generator.next() % 4 == 0 { mutated = Array(mutated[..<position]) }
            if code({ _ = try PolicyBundle.open(mutated, key: key.verificationKey) }) != nil { refused += 1 }
        }
        #expect(refused > 500)
    }
}
