import Foundation
import ScopeGateTesting
import Testing

@testable import ScopeGate

/// The matcher's lookup structures against the plain operations they replace.
@Suite struct MatcherStructureTests {
    /// `DecimalCompare` equals Foundation's comparison on numbers of every shape: integers and fractions, both
    /// signs, zeros with exponents, equal values written differently, and mantissas too wide for the fast path.
    @Test func decimalCompareEqualsFoundation() throws {
        #expect(DecimalCompare.layoutVerified, "the fast path should be active on this Foundation")
        let posix = Locale(identifier: "en_US_POSIX")
        var texts = [
            "0", "-0", "0.0", "0e5", "1", "-1", "10", "1e1", "100", "1e2", "0.1", "0.10", "-0.1", "1.5", "-1.5",
            "150", "149.999", "150.0001", "9223372036854775807", "18446744073709551615",
            "18446744073709551616", "123456789012345678901234567890", "-123456789012345678901234567890",
            "1e-30", "1e30", "-1e30", "0.000001", "99999999999999999999.5",
        ]
        var rng = SplitMix64(seed: 7)
        for _ in 0..<400 {
            let digits = Int(rng.next() % 22) + 1
            var s = rng.next() % 2 == 0 ? "-" : ""
            for _ in 0..<digits { s += String(rng.next() % 10) }
            if rng.next() % 2 == 0 { s += "e" + String(Int(rng.next() % 41) - 20) }
            texts.append(s)
        }
        let values = texts.compactMap { Decimal(string: $0, locale: posix) }
        #expect(values.count == texts.count)
        var fastPathPairs = 0
        for a in values {
            for b in values {
                let expected = a == b ? 0 : (a < b ? -1 : 1)
                #expect(DecimalCompare.compare(a, b) == expected, "\(a) vs \(b)")
                if DecimalCompare.parts(a) != nil && DecimalCompare.parts(b) != nil { fastPathPairs += 1 }
            }
        }
        #expect(fastPathPairs > values.count * values.count / 4, "most pairs should take the fast path")
    }

    /// Name ranks order scopes exactly as their names compare byte-wise (the completion search's tie-breaks compare
    /// ranks instead of names): prefixes, case, non-ASCII and equal names included.
    @Test func nameRanksFollowByteOrder() {
        var names = [
            "write:files", "read:files", "read", "read:files:all", "Read", "é:x", "e:x", "admin:*", "", "read",
        ]
        let alphabet = Array("ab:Zé*")
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            let length = Int(rng.next() % 6)
            names.append(String((0..<length).map { _ in alphabet[Int(rng.next() % 6)] }))
        }
        let ranks = ScopeTable.ranks(of: names)
        for i in names.indices {
            for j in names.indices {
                let byName = names[i].utf8.lexicographicallyPrecedes(names[j].utf8)
                #expect((ranks[i] < ranks[j]) == byName, "\(names[i]) vs \(names[j])")
            }
        }
    }

    /// `NameIndex` finds exactly the indexed names (including prefixes, extensions and near misses of them).
    @Test func nameIndexFindsExactlyTheNames() {
        var rng = SplitMix64(seed: 11)
        var names: [String] = []
        for i in 0..<3_000 { names.append("scope:\(rng.next() % 1000):\(i)") }
        names += ["", "é", "a", "ab", "mcp:tools:*"]
        let index = NameIndex(names)
        for (i, name) in names.enumerated() { #expect(index.lookup(name) == ScopeID(i)) }
        for probe in [
            "scope:", "scope:1:", "b", "ä", "mcp:tools:", "mcp:tools:**", names[5] + "x", String(names[9].dropLast()),
        ] {
            #expect(index.lookup(probe) == names.firstIndex(of: probe).map { ScopeID($0) }, "\(probe)")
        }
    }

    /// A slot holds a name's first 16 bytes: names of every length from 0 to 40 are found, and a probe that differs
    /// from one in any single byte, or is one byte shorter or longer (a zero byte included), is not.
    @Test func nameIndexComparesEveryByteAroundTheSlotsHead() {
        var names: [[UInt8]] = []
        for length in 0...40 { names.append((0..<length).map { UInt8(truncatingIfNeeded: 0x41 &+ $0 &* 7) }) }
        let index = NameIndex(keys: names)
        let known = Set(names)
        func find(_ bytes: [UInt8]) -> ScopeID? { bytes.withUnsafeBufferPointer { index.lookup(utf8: $0) } }
        for (i, name) in names.enumerated() {
            #expect(find(name) == ScopeID(i))
            var probes = [name + [0], name + [0x41]]
            if !name.isEmpty { probes.append(Array(name.dropLast())) }
            for k in name.indices {
                for flip: UInt8 in [0x01, 0x80] {
                    var probe = name
                    probe[k] ^= flip
                    probes.append(probe)
                }
                var zeroed = name
                zeroed[k] = 0
                probes.append(zeroed)
            }
            for probe in probes where !known.contains(probe) {
                #expect(find(probe) == nil, "length \(name.count): \(probe)")
            }
        }
    }

    /// An empty name is found whether or not the buffer it is read from has an address.
    @Test func nameIndexFindsTheEmptyNameFromAnyBuffer() {
        let index = NameIndex(["", "a"])
        #expect(index.lookup(utf8: UnsafeBufferPointer(start: nil, count: 0)) == 0)
        var byte: UInt8 = 0
        withUnsafePointer(to: &byte) { #expect(index.lookup(utf8: UnsafeBufferPointer(start: $0, count: 0)) == 0) }
    }

    /// Values other than the position: a rule table stores each exact name's rule index, and the first of equal
    /// keys wins.
    @Test func nameIndexReturnsTheGivenValues() {
        let keys = ["get_forecast", "a-tool-name-longer-than-sixteen-bytes", "get_forecast"]
        let index = NameIndex(count: keys.count, values: keys.indices.map { 100 + $0 }) { id, add in
            var key = keys[id]
            key.withUTF8 { add($0) }
        }
        #expect(index.lookup("get_forecast") == 100)
        #expect(index.lookup("a-tool-name-longer-than-sixteen-bytes") == 101)
        #expect(index.lookup("a-tool-name-longer-than-sixteen-bytez") == nil)
    }

    /// Names that differ only in their last bytes (numbered tools and scopes, of every length around a word
    /// boundary) must spread over the table: a hash whose slot ignored the tail made probe runs of hundreds.
    @Test func nameIndexSpreadsNamesThatDifferAtTheEnd() {
        for pattern in [
            "tool_%05d", "mcp:tools:files:read_%d", "s%d", "svc:%d:read", "a_rather_long_scope_prefix:%07d",
        ] {
            let names = (0..<10_000).map { String(format: pattern, $0) }
            let index = NameIndex(names)
            let probes = index.probeLengths
            #expect(probes.average < 2, "\(pattern): average probe \(probes.average)")
            #expect(probes.maximum < 32, "\(pattern): longest probe \(probes.maximum)")
            for i in stride(from: 0, to: names.count, by: 97) { #expect(index.lookup(names[i]) == ScopeID(i)) }
        }
    }

    /// Substrings (a granted string with a prefix stripped) are looked up in place and find the same ids.
    @Test func nameIndexLooksUpSubstrings() {
        let names = ["files:read", "files:write", "a-name-longer-than-fifteen-bytes:read"]
        let index = NameIndex(names)
        for (i, name) in names.enumerated() {
            let prefixed = "api://app-id/" + name
            #expect(index.lookup(prefixed.dropFirst("api://app-id/".count)) == ScopeID(i))
            #expect(index.lookup(name.dropLast()) == nil)
        }
    }

    /// A glob keeps its pieces back to back in one array: matching agrees with the reference's matcher on random
    /// patterns (adjacent, leading and trailing stars, empty pieces, repeated letters) and names, and the pieces
    /// are the pattern split at `*`.
    @Test func globMatchesAsTheReferenceOnEveryShape() {
        var rng = SplitMix64(seed: 19)
        let alphabet: [Character] = ["a", "b", "*", "é"]
        func text(_ letters: [Character], _ n: Int) -> String {
            String((0..<n).map { _ in letters[Int(rng.next() % UInt64(letters.count))] })
        }
        for _ in 0..<600 {
            let pattern = text(alphabet, Int(rng.next() % 7))
            let glob = Glob(pattern)
            let split = pattern.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false)
            #expect(glob.pieces == split.map(Array.init), "\(pattern)")
            #expect(glob.stars == split.count - 1 && glob.literalPrefix == split[0].count)
            for _ in 0..<20 {
                let name = text(["a", "b", "é"], Int(rng.next() % 8))
                #expect(
                    glob.matches(name) == ReferenceEvaluator.globMatches(pattern, name), "\(pattern) on \(name)")
            }
        }
    }

    /// The glob index answers exactly what a linear scan over the specificity-sorted globs answers.
    @Test func globIndexEqualsLinearScan() {
        var rng = SplitMix64(seed: 3)
        let alphabet: [Character] = ["a", "b", "_", "é", "x"]
        func word(_ n: Int) -> String {
            String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        }
        for _ in 0..<40 {
            var patterns = Set<String>()
            for _ in 0..<Int(rng.next() % 30 + 1) {
                var p = word(Int(rng.next() % 10))
                for _ in 0..<Int(rng.next() % 3 + 1) { p += "*" + word(Int(rng.next() % 3)) }
                patterns.insert(p)
            }
            let globs = patterns.sorted().map { (Glob($0), 0) }
                .sorted { a, b in
                    a.0.specificity != b.0.specificity ? b.0.specificity < a.0.specificity : a.0.pattern < b.0.pattern
                }
            let index = GlobIndex(globs.map(\.0))
            for _ in 0..<300 {
                let name = word(Int(rng.next() % 14))
                var bytes = name
                bytes.withUTF8 { buffer in
                    let linear = globs.firstIndex { $0.0.matches(utf8: buffer) }
                    #expect(index.firstMatch(buffer, in: globs) == linear, "\(name)")
                }
            }
        }
    }

    /// `value(named:)` gives what the dictionary's own lookup gives: present and absent names, keys equal only under
    /// `String`'s canonical equivalence (KELVIN SIGN and `K`, a decomposed and a precomposed `é`), empty objects, and
    /// objects past the scan limit (looked up by hash).
    @Test func argumentLookupEqualsTheDictionary() {
        let names = ["path", "mode", "\u{212A}ey", "Key", "caf\u{E9}", "cafe\u{301}", "", "a", "pat", "paths", "x y"]
        var rng = SplitMix64(seed: 23)
        var objects: [[String: JSONValue]] = [[:], ["Key": .bool(true)], ["cafe\u{301}": .string("d")]]
        for size in [1, 2, 3, 5, 8, 9, 12] {
            for _ in 0..<20 {
                var object: [String: JSONValue] = [:]
                while object.count < min(size, names.count - 2) {
                    object[names[Int(rng.next() % UInt64(names.count))] + (size > 8 ? String(object.count) : "")] =
                        .number(Decimal(object.count))
                }
                objects.append(object)
            }
        }
        var scanned = 0
        for object in objects {
            if object.count <= [String: JSONValue].nameScanLimit { scanned += 1 }
            for name in names + ["path0", "mode3", "K\u{212A}"] {
                #expect(object.value(named: name) == object[name], "\(name) in \(object)")
            }
        }
        #expect(scanned > 0 && scanned < objects.count, "both the scan and the hash lookup should be exercised")
        #expect(["\u{212A}": JSONValue.null].value(named: "K") == .null, "canonically equal keys are the same key")
    }

    /// `action(named:)` gives what the action dictionary gives: the last of equal names, canonically equal names,
    /// absent names, and lists past the scan limit (looked up by hash).
    @Test func actionLookupEqualsTheDictionary() {
        for names in [
            ["read", "write", "delete"], ["read", "read"], ["\u{212A}", "K"], ["caf\u{E9}"],
            (0..<12).map { "action\($0)" },
        ] {
            var index: [String: Int] = [:]
            for (i, name) in names.enumerated() { index[name] = i }
            let extras = CompiledRule.Extras(
                actionArgument: "action", actions: index,
                actionList: names.map { CompiledAction(name: $0, requirement: .none, when: []) })
            for name in names + ["K", "cafe\u{301}", "nope", "", "action11", "action12"] {
                #expect(extras.action(named: name) == index[name], "\(name) in \(names)")
            }
        }
    }
}
