import Foundation
import Testing

@testable import ScopeGate

// Every diagnostic code is raised by its example in `policies/broken/` (or by a generated input where a committed
// file is impractical), at the severity, line and column written here by hand; every code is documented; the
// example policies are clean; and hostile inputs end in a diagnostic, never a crash or a hang.

/// The repository root, found from this file's path (`Tests/ScopeGateTests/DiagnosticCodeTests.swift`).
private let repoRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func repoPath(_ relative: String) -> String { repoRoot.appendingPathComponent(relative).path }

/// A compiler that sees no environment variables, so `${VAR}` results do not depend on the machine.
private func compiler() -> PolicyCompiler { PolicyCompiler(options: LoadOptions(environment: [:])) }

/// A fresh temporary directory, removed by the caller.
private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-diag-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - expected results, per code

/// Where a code's example lives and what it must produce. Written by hand from the example files, so a change in
/// the compiler's locations or severities fails the test.
struct ExpectedDiagnostic: Sendable {
    enum Source: Sendable {
        /// A committed file under the repository root.
        case file(String)
        /// A path that does not exist (SG001).
        case missingFile
        /// A 10 MB file written to a temporary directory (SG002).
        case generatedLargeFile
    }

    var source: Source
    var severity: Diagnostic.Severity
    var line: Int
    var column: Int
    /// The diagnostic's file, when it is not the example itself (a suffix of the path).
    var locatedIn: String? = nil
    /// Other codes the example is allowed to raise besides its own.
    var alsoAllowed: Set<String> = []
}

private func broken(_ name: String) -> ExpectedDiagnostic.Source { .file("policies/broken/\(name).yaml") }

/// The expected result for each code id.
private let expectations: [String: ExpectedDiagnostic] = [
    "SG001": .init(source: .missingFile, severity: .error, line: 1, column: 1),
    "SG002": .init(source: .generatedLargeFile, severity: .error, line: 1, column: 1),
    "SG003": .init(source: broken("SG003-invalid-utf8"), severity: .error, line: 5, column: 39),
    "SG004": .init(source: broken("SG004-yaml-syntax"), severity: .error, line: 7, column: 13),
    "SG005": .init(source: broken("SG005-duplicate-key"), severity: .error, line: 8, column: 3),
    "SG006": .init(source: broken("SG006-nesting-too-deep"), severity: .error, line: 4, column: 76),
    "SG007": .init(source: broken("SG007-scalar-too-long"), severity: .error, line: 5, column: 18),
    "SG008": .init(source: broken("SG008-too-many-nodes"), severity: .error, line: 3, column: 15),
    "SG009": .init(source: broken("SG009-unset-variable"), severity: .error, line: 4, column: 7),
    "SG010": .init(source: broken("SG010-include-not-found"), severity: .error, line: 3, column: 11),
    "SG011": .init(
        source: broken("SG011-include-cycle"), severity: .error, line: 2, column: 11,
        locatedIn: "policies/broken/includes/SG011-tools.yaml"),
    "SG012": .init(source: broken("SG012-tab-indentation"), severity: .error, line: 6, column: 1),
    "SG013": .init(source: broken("SG013-multiple-documents"), severity: .error, line: 7, column: 1),
    "SG101": .init(source: broken("SG101-unknown-key"), severity: .error, line: 7, column: 5),
    "SG102": .init(source: broken("SG102-wrong-type"), severity: .error, line: 6, column: 45),
    "SG103": .init(source: broken("SG103-missing-key"), severity: .error, line: 1, column: 1),
    "SG104": .init(source: broken("SG104-unsupported-version"), severity: .error, line: 2, column: 10),
    "SG105": .init(source: broken("SG105-invalid-value"), severity: .error, line: 5, column: 11),
    "SG201": .init(source: broken("SG201-invalid-scope-name"), severity: .error, line: 5, column: 3),
    "SG202": .init(source: broken("SG202-undefined-scope"), severity: .error, line: 6, column: 14),
    "SG203": .init(source: broken("SG203-wildcard-in-requirement"), severity: .error, line: 9, column: 15),
    "SG205": .init(
        source: broken("SG205-double-definition"), severity: .error, line: 4, column: 3,
        locatedIn: "policies/broken/includes/SG205-scopes.yaml"),
    "SG206": .init(source: broken("SG206-unknown-tool"), severity: .error, line: 9, column: 13),
    "SG207": .init(source: broken("SG207-unknown-action"), severity: .error, line: 13, column: 13),
    "SG208": .init(source: broken("SG208-unknown-issuer"), severity: .error, line: 15, column: 17),
    "SG301": .init(source: broken("SG301-implication-cycle"), severity: .error, line: 4, column: 27),
    "SG302": .init(
        source: broken("SG302-empty-wildcard"), severity: .warning, line: 5, column: 3,
        alsoAllowed: ["SG701"]),  // a wildcard covering nothing also unlocks nothing
    "SG303": .init(source: broken("SG303-broad-wildcard"), severity: .warning, line: 6, column: 3),
    "SG401": .init(source: broken("SG401-empty-any"), severity: .error, line: 7, column: 17),
    "SG402": .init(source: broken("SG402-ambiguous-globs"), severity: .error, line: 8, column: 3),
    "SG403": .init(source: broken("SG403-invalid-glob"), severity: .error, line: 7, column: 3),
    "SG404": .init(source: broken("SG404-invalid-condition"), severity: .error, line: 10, column: 36),
    "SG405": .init(source: broken("SG405-deprecated-scope"), severity: .warning, line: 8, column: 14),
    "SG406": .init(source: broken("SG406-shadowed-glob"), severity: .warning, line: 8, column: 3),
    "SG407": .init(source: broken("SG407-unsatisfiable-requirement"), severity: .warning, line: 7, column: 3),
    "SG408": .init(source: broken("SG408-condition-never-matches"), severity: .warning, line: 10, column: 22),
    "SG409": .init(source: broken("SG409-no-requirement"), severity: .error, line: 7, column: 3),
    "SG410": .init(source: broken("SG410-conflicting-settings"), severity: .error, line: 6, column: 3),
    "SG411": .init(source: broken("SG411-requirement-too-large"), severity: .error, line: 29, column: 7),
    "SG501": .init(source: broken("SG501-no-audience"), severity: .error, line: 5, column: 7),
    "SG502": .init(source: broken("SG502-unsafe-algorithm"), severity: .error, line: 8, column: 7),
    "SG503": .init(source: broken("SG503-insecure-jwks-uri"), severity: .error, line: 8, column: 7),
    "SG504": .init(source: broken("SG504-large-leeway"), severity: .warning, line: 7, column: 3),
    "SG601": .init(source: broken("SG601-scopes-supported-all"), severity: .warning, line: 4, column: 3),
    "SG602": .init(source: broken("SG602-scopes-supported-offline-access"), severity: .warning, line: 4, column: 3),
    "SG603": .init(source: broken("SG603-scopes-supported-empty"), severity: .warning, line: 4, column: 3),
    "SG701": .init(source: broken("SG701-unused-scope"), severity: .info, line: 5, column: 3),
    "SG702": .init(source: broken("SG702-excess-client-scopes"), severity: .warning, line: 12, column: 14),
    "SG703": .init(source: broken("SG703-public-downstream"), severity: .warning, line: 9, column: 17),
    "SG704": .init(source: broken("SG704-downstream-without-exchange"), severity: .warning, line: 15, column: 17),
    "SG705": .init(source: broken("SG705-public-catch-all"), severity: .warning, line: 7, column: 3),
    "SG706": .init(source: broken("SG706-shadow-mode"), severity: .warning, line: 6, column: 3),
]

/// Codes whose condition is generated by the test instead of a committed file.
private let generatedCodes: Set<String> = ["SG001", "SG002"]

@Suite("Diagnostic codes")
struct DiagnosticCodeTests {
    /// Compiles the example of `expected`, returning the diagnostics and the path the example was compiled from.
    func compileExample(_ expected: ExpectedDiagnostic) throws -> (Diagnostics, String) {
        switch expected.source {
        case .file(let relative):
            let path = repoPath(relative)
            return (compiler().compile(path: path).diagnostics, path)
        case .missingFile:
            let path = repoPath("policies/broken/SG001-this-file-does-not-exist.yaml")
            #expect(!FileManager.default.fileExists(atPath: path))
            return (compiler().compile(path: path).diagnostics, path)
        case .generatedLargeFile:
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("large.yaml").path
            var data = Data("version: 1\n".utf8)
            data.append(Data(repeating: UInt8(ascii: "#"), count: 10_000_000))
            try data.write(to: URL(fileURLWithPath: path))
            return (compiler().compile(path: path).diagnostics, path)
        }
    }

    @Test("each code is raised by its example, at the expected place", arguments: Diagnostic.Code.all)
    func codeIsRaised(_ code: Diagnostic.Code) throws {
        let expected = try #require(expectations[code.id], "no expectation written for \(code.id)")
        let (diagnostics, path) = try compileExample(expected)
        let hits = diagnostics.filter { $0.code == code }
        let hit = try #require(hits.first, "\(code.id) not raised; got \(diagnostics.map(\.description))")
        #expect(hit.severity == expected.severity)
        #expect(code.severity == expected.severity)
        let location = try #require(hit.location)
        #expect(location.line == expected.line, "\(hit)")
        #expect(location.column == expected.column, "\(hit)")
        if let elsewhere = expected.locatedIn {
            #expect(location.file.hasSuffix(elsewhere), "\(hit)")
        } else {
            #expect(location.file == path, "\(hit)")
        }
        #expect(hit.message.first?.isUppercase == false && hit.message.last != ".", "message style: \(hit.message)")
        #expect(!(hit.help ?? "").isEmpty, "every diagnostic has a help line")
        let others = Set(diagnostics.map(\.code.id)).subtracting([code.id])
        #expect(others.isSubset(of: expected.alsoAllowed), "unexpected extra codes \(others.sorted()) for \(code.id)")
    }

    @Test("every code has an expectation, a broken example and a section in docs/diagnostics.md")
    func everyCodeIsCoveredAndDocumented() throws {
        let docs = try String(contentsOfFile: repoPath("docs/diagnostics.md"), encoding: .utf8)
        let docLines = Set(docs.split(separator: "\n").map(String.init))
        for code in Diagnostic.Code.all {
            #expect(expectations[code.id] != nil, "\(code.id) has no expectation")
            let file = "policies/broken/\(code.id)-\(code.name).yaml"
            if generatedCodes.contains(code.id) {
                #expect(!FileManager.default.fileExists(atPath: repoPath(file)))
            } else {
                #expect(FileManager.default.fileExists(atPath: repoPath(file)), "missing \(file)")
                if case .file(let named) = expectations[code.id]?.source { #expect(named == file) }
            }
            #expect(docs.contains("<a id=\"\(code.id.lowercased())\"></a>"), "docs: no anchor for \(code.id)")
            #expect(docLines.contains("## \(code.id) \(code.name)"), "docs: no heading `## \(code.id) \(code.name)`")
            if !generatedCodes.contains(code.id) {
                #expect(docs.contains(file), "docs: \(code.id) does not show its example \(file)")
            }
        }
        #expect(Set(Diagnostic.Code.all.map(\.id)).count == Diagnostic.Code.all.count, "duplicate code ids")
        #expect(Set(expectations.keys) == Set(Diagnostic.Code.all.map(\.id)), "expectations for retired codes")
    }

    @Test("every file in policies/broken/ is named for a code")
    func brokenFilesAreNamedForCodes() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: repoPath("policies/broken"))
            .filter { $0.hasSuffix(".yaml") }
        let known = Set(Diagnostic.Code.all.map { "\($0.id)-\($0.name).yaml" })
        #expect(names.count == Diagnostic.Code.all.count - generatedCodes.count)
        for name in names { #expect(known.contains(name), "\(name) names no code") }
    }

    @Test("the example policies compile with no errors and no warnings")
    func examplePoliciesAreClean() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: repoPath("policies"))
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.count >= 4)
        for name in names {
            let result = compiler().compile(path: repoPath("policies/\(name)"))
            #expect(result.diagnostics.count(.error) == 0, "\(name): \(result.diagnostics.map(\.description))")
            #expect(result.diagnostics.count(.warning) == 0, "\(name): \(result.diagnostics.map(\.description))")
            #expect(result.model != nil)
        }
    }
}

// MARK: - hostile input

@Suite("Hostile policy input", .timeLimit(.minutes(2)))
struct HostileInputTests {
    /// Compiles text and requires at least one error with one of `codes`, and no model.
    @discardableResult
    func expectRejected(_ source: String, codes: Set<String>, sourceLocation: Testing.SourceLocation = #_sourceLocation)
        -> Diagnostics
    {
        let result = compiler().compile(source: source, name: "hostile.yaml")
        #expect(result.model == nil, sourceLocation: sourceLocation)
        let found = Set(result.diagnostics.filter { $0.severity == .error }.map(\.code.id))
        #expect(
            !found.isDisjoint(with: codes),
            "expected one of \(codes.sorted()), got \(result.diagnostics.map(\.description))",
            sourceLocation: sourceLocation)
        return result.diagnostics
    }

    static let malformed: [String] = [
        "version: 1\ntools: { a: b",  // unclosed flow mapping
        "version: 1\ntools: [a, b",  // unclosed flow sequence
        "version: 1\nscopes:\n  a: \"unterminated\n",  // unterminated quote
        "version: 1\n  bad: indentation\n",  // a mapping that does not line up
        "version: 1\ntools:\n  a: *undefined\n",  // an alias with no anchor
        "version: 1\n- a\n",  // a list after a mapping entry
        "version: 1\nkey: value: other\n",  // mapping value in a plain scalar
        "{",
        "]",
        "version: 1\n\u{0007}\n",  // a control character
        "version: 1\nx: @reserved\n",
        "version: 1\nx: `backtick\n",
        "%YAML 9.9\n--- a\n",  // unsupported YAML version
        "version: 1\nx: \"\\q\"\n",  // unknown escape
        "\"\\uD800\"",  // escaped lone surrogate
        "a: b\n...\nc: d\n",  // content after the document end marker
    ]

    @Test("malformed YAML is a YAML diagnostic", arguments: malformed)
    func malformedYAML(_ source: String) {
        let result = compiler().compile(source: source, name: "hostile.yaml")
        #expect(result.model == nil)
        let codes = Set(result.diagnostics.map(\.code.id))
        #expect(codes == ["SG004"], "\(source.debugDescription): \(result.diagnostics.map(\.description))")
        for diagnostic in result.diagnostics { #expect(diagnostic.location != nil) }
    }

    @Test func duplicateKeys() {
        let top = expectRejected("version: 1\nversion: 1\n", codes: ["SG005"])
        #expect(top.first { $0.code == .duplicateKey }?.location?.line == 2)
        expectRejected("version: 1\nscopes:\n  a: {}\n  b: {}\n  a: {}\ntools:\n  t: a\n", codes: ["SG005"])
        expectRejected("version: 1\nscopes: { a: {}, a: {} }\n", codes: ["SG005"])
        expectRejected("version: 1\ntools:\n  t:\n    requires: a\n    requires: b\n", codes: ["SG005"])
    }

    @Test func tabs() {
        let diagnostics = expectRejected("version: 1\nscopes:\n\ta: {}\n", codes: ["SG012"])
        #expect(diagnostics.first { $0.code == .tabIndentation }?.location?.line == 3)
        expectRejected("version: 1\nscopes:\n  a:\n  \t description: x\n", codes: ["SG012", "SG004"])
    }

    @Test(
        "non-UTF-8 bytes",
        arguments: [
            [UInt8(0xFF)],  // never valid
            [0xC0, 0xAF],  // overlong `/`
            [0xE9, 0x61],  // Latin-1 `é` followed by ASCII
            [0xED, 0xA0, 0x80],  // a UTF-16 surrogate
            [0x80],  // a lone continuation byte
            [0xF0, 0x9F, 0x98],  // truncated at the end of the file
        ] as [[UInt8]])
    func nonUTF8(_ bytes: [UInt8]) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("latin1.yaml")
        var data = Data("version: 1\nscopes:\n  ab".utf8)
        data.append(contentsOf: bytes)
        try data.write(to: url)
        let result = compiler().compile(path: url.path)
        #expect(result.model == nil)
        let diagnostic = try #require(result.diagnostics.first { $0.code == .invalidUTF8 })
        #expect(diagnostic.location?.line == 3)
        #expect(diagnostic.location?.column == 5)
    }

    @Test("a 10 MB file is rejected before parsing")
    func tenMegabyteFile() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("huge.yaml")
        // Valid YAML all the way: a long list of scopes, so only the size can reject it.
        var text = "version: 1\nscopes:\n"
        let line = "  scope:number:0000000000: { description: padding padding padding padding padding }\n"
        text.reserveCapacity(10_100_000)
        var n = 0
        while text.utf8.count < 10_000_000 {
            text += line.replacingOccurrences(of: "0000000000", with: String(format: "%010d", n))
            n += 1
        }
        try Data(text.utf8).write(to: url)
        let result = compiler().compile(path: url.path)
        #expect(result.model == nil)
        #expect(result.diagnostics.map(\.code) == [.fileTooLarge])
        // The same bytes given in memory are bounded too.
        let inMemory = compiler().compile(source: text, name: "huge.yaml")
        #expect(inMemory.diagnostics.map(\.code) == [.fileTooLarge])
    }

    @Test(
        "10,000-deep nesting",
        arguments: [
            String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
            String(repeating: "{a: ", count: 10_000) + "b" + String(repeating: "}", count: 10_000),
            String(repeating: "- ", count: 10_000) + "a",
            String(repeating: "[", count: 10_000),  // never closed
        ])
    func deepNesting(_ value: String) {
        let block = value.hasPrefix("-")
        let source =
            block
            ? "version: 1\naudit:\n  arguments:\n  " + value + "\n" : "version: 1\naudit:\n  arguments: " + value + "\n"
        expectRejected(source, codes: ["SG006"])
    }

    @Test("nesting just past the limit of 64 is SG006")
    func nestingPastLimit() {
        let ok =
            "version: 1\naudit:\n  arguments: " + String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
            + "\n"
        #expect(!compiler().compile(source: ok, name: "ok.yaml").diagnostics.contains { $0.code == .nestingTooDeep })
        let deep =
            "version: 1\naudit:\n  arguments: " + String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
            + "\n"
        expectRejected(deep, codes: ["SG006"])
    }

    @Test("a 1 MB scalar")
    func megabyteScalar() {
        let plain = "version: 1\nscopes:\n  a:\n    description: " + String(repeating: "x", count: 1 << 20) + "\n"
        let diagnostics = expectRejected(plain, codes: ["SG007"])
        #expect(diagnostics.first { $0.code == .scalarTooLong }?.location?.line == 4)
        let quoted = "version: 1\nscopes:\n  a:\n    description: \"" + String(repeating: "x", count: 1 << 20) + "\"\n"
        expectRejected(quoted, codes: ["SG007"])
        let block =
            "version: 1\nscopes:\n  a:\n    description: |\n"
            + String(repeating: "      " + String(repeating: "x", count: 1023) + "\n", count: 1024)
        expectRejected(block, codes: ["SG007"])
        // YAML limits implicit keys to 1024 characters, so a 1 MB key is a syntax error before it is a long scalar.
        let key = "version: 1\nscopes:\n  \"" + String(repeating: "k", count: 1 << 20) + "\": {}\n"
        expectRejected(key, codes: ["SG004", "SG007"])
    }

    @Test("implication cycles of every length up to 100 are SG301", arguments: Array(1...100))
    func implicationCycle(_ length: Int) throws {
        var source = "version: 1\nscopes:\n"
        for i in 0..<length { source += "  s\(i): { implies: [s\((i + 1) % length)] }\n" }
        source += "  outside: { implies: [s0] }\ntools:\n  t: outside\n"
        let result = compiler().compile(source: source, name: "cycle.yaml")
        #expect(result.model == nil)
        let cycles = result.diagnostics.filter { $0.code == .implicationCycle }
        #expect(cycles.count == 1, "\(result.diagnostics.map(\.description))")
        let cycle = try #require(cycles.first)
        #expect(cycle.location?.line == 3)
        #expect(cycle.message.components(separatedBy: " → ").count == length + 1)
    }

    @Test("include cycles of length 1 to 4 are SG011", arguments: [1, 2, 3, 4])
    func includeCycle(_ length: Int) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for i in 0..<length {
            var text = i == 0 ? "version: 1\n" : ""
            text += "include: [f\((i + 1) % length).yaml]\nscopes:\n  s\(i): {}\ntools:\n  t\(i): s\(i)\n"
            try Data(text.utf8).write(to: dir.appendingPathComponent("f\(i).yaml"))
        }
        let result = compiler().compile(path: dir.appendingPathComponent("f0.yaml").path)
        #expect(result.model == nil)
        let cycle = try #require(result.diagnostics.first { $0.code == .includeCycle })
        #expect(cycle.location?.file.hasSuffix("f\(length - 1).yaml") == true)
        #expect(!result.diagnostics.contains { $0.code == .doubleDefinition }, "a file in a cycle is loaded once")
    }

    @Test(
        "billion laughs: anchors referencing anchors are bounded", arguments: [(10, 10), (12, 10), (20, 10), (30, 2)])
    func billionLaughs(_ levels: Int, _ fanOut: Int) {
        var source = "version: 1\nl0: &l0 [" + Array(repeating: "lol", count: fanOut).joined(separator: ", ") + "]\n"
        for level in 1...levels {
            source +=
                "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: fanOut).joined(separator: ", ")
                + "]\n"
        }
        source += "audit:\n  arguments: *l\(levels)\n"
        let diagnostics = expectRejected(source, codes: ["SG008"])
        #expect(diagnostics.filter { $0.code == .tooManyNodes }.count == 1)
    }

    @Test("billion laughs through mappings")
    func billionLaughsMappings() {
        var source = "version: 1\nm0: &m0 {a: x, b: y, c: z, d: w, e: v, f: u, g: t, h: s, i: r, j: q}\n"
        for level in 1...12 {
            let entries = (0..<10).map { "k\($0): *m\(level - 1)" }.joined(separator: ", ")
            source += "m\(level): &m\(level) {\(entries)}\n"
        }
        source += "scopes: *m12\n"
        expectRejected(source, codes: ["SG008"])
    }
}
