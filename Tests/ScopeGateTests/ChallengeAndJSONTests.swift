import Foundation
import Testing

@testable import ScopeGate

@Suite struct ChallengeTests {
    static let source = """
        version: 1
        resource:
          id: https://mcp.example.com/mcp
          authorization_servers: [https://auth.example.com]
        scopes:
          basic:read: { risk: low }
          files:read: {}
          files:write: { implies: [files:read] }
        tools:
          list: { requires: basic:read, basic: true }
          write_file: files:write
        """

    func policy() throws -> CompiledPolicy {
        try PolicyCompiler(options: LoadOptions(environment: [:])).compile(source: Self.source, name: "c.yaml")
            .compiled()
    }

    @Test func unauthorizedWithoutTokenListsScopesSupportedAndMetadata() throws {
        let p = try policy()
        #expect(
            p.unauthorizedChallenge()
                == #"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="basic:read""#
        )
    }

    @Test func unauthorizedForAKnownCallAddsTheToolsLeastPrivilegeAndError() throws {
        let p = try policy()
        let value = p.unauthorizedChallenge(
            for: .tool("write_file"), error: "invalid_token", description: "token \"expired\"")
        #expect(
            value
                == #"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="basic:read files:write", error="invalid_token", error_description="token ?expired?""#
        )
    }

    @Test func forbiddenChallengeKeepsGrantedStringsAsSentThenMissing() throws {
        let p = try policy()
        let grant = p.grant(["files:read", "unknown:thing"])
        let decision = p.decide(.tool("write_file"), grant: grant)
        #expect(
            p.challenge(for: decision, grant: grant)
                == #"Bearer error="insufficient_scope", scope="files:read files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", error_description="additional scope required""#
        )
        #expect(
            p.challenge(for: decision, grant: grant, style: .missingOnly)?.contains(#"scope="files:write""#) == true)
    }

    @Test func overlongScalarIsOneDiagnostic() throws {
        let big = String(repeating: "x", count: 70_000)
        let result = PolicyCompiler(options: LoadOptions(environment: [:]))
            .compile(source: "version: 1\nscopes:\n  a: {description: \(big)}\ntools:\n  t: a\n", name: "big.yaml")
        #expect(result.diagnostics.map(\.code) == [.scalarTooLong])
    }
}

@Suite struct JSONParserTests {
    @Test func parsesAllTypesExactly() throws {
        let v = try JSONParser().parse(#"{"a":[1,-2.5e3,"x\u00e9\n",true,false,null],"b":{"c":12345678901234567890}}"#)
        guard case .object(let o) = v, case .array(let a)? = o["a"], case .object(let b)? = o["b"] else {
            Issue.record("wrong shape")
            return
        }
        #expect(a == [.number(1), .number(Decimal(-2500)), .string("xé\n"), .bool(true), .bool(false), .null])
        #expect(b["c"] == .number(Decimal(string: "12345678901234567890") ?? 0))
    }

    /// Every number the reader takes is written back as text it reads again, to the same value, in at most 64
    /// characters: `Decimal`'s plain digits run past that for large and small exponents.
    @Test(arguments: [
        "0", "-0", "1.5", "-2.25e3", "12345678901234567890", "3333333333333333333333333331e40", "-7e120",
        "1e-120", "-0.000012345e-90", "99999999999999999999999999999999999999e50",
    ])
    func numbersAreWrittenAsTextTheReaderReadsBack(_ text: String) throws {
        guard case .number(let value) = try JSONParser().parse(text) else {
            Issue.record("not a number: \(text)")
            return
        }
        let written = JSONValue.number(value).jsonText
        #expect(written.utf8.count <= 64, "\(written)")
        #expect(try JSONParser().parse(written) == .number(value), "\(text) → \(written)")
        if value.description.utf8.count <= 64 { #expect(written == value.description) }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate key"),
        ("[1,]", "invalid value"),
        (#"{"a":1} x"#, "unexpected text"),
        (#""\ud800""#, "unpaired surrogate"),
        ("01", "unexpected text"),
        (String(repeating: "[", count: 100) + String(repeating: "]", count: 100), "nesting deeper"),
        ("\"a\u{01}\"", "control character"),
    ])
    func rejects(_ text: String, _ message: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser().parse(text) }
        do {
            _ = try JSONParser().parse(text)
        } catch {
            #expect(error.message.contains(message), "\(text): \(error.message)")
        }
    }
}

@Suite struct JSONStringScanTests {
    /// `plainRunEnd` reads eight bytes at a time; it must stop exactly where a byte-at-a-time scan does, for every
    /// length and every position of the stopping byte, including the bytes next to the ones it stops at and bytes
    /// that borrow in the word-wise test (0x00, 0x01, 0x1F) placed before other candidates.
    @Test func stopsWhereAByteScanStops() {
        let fillers: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xC3, 0xFF, 0x41]
        let stops: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x1F, 0x0A]
        func naive(_ bytes: [UInt8], from start: Int) -> Int {
            bytes[start...].firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 } ?? bytes.count
        }
        var checked = 0
        for length in 0..<26 {
            for (f, filler) in fillers.enumerated() {
                var base = [UInt8](repeating: filler, count: length)
                for i in base.indices where i % 3 == 1 { base[i] = fillers[(f + i) % fillers.count] }
                var cases = [base]
                for position in 0..<length {
                    for stop in stops {
                        var bytes = base
                        bytes[position] = stop
                        cases.append(bytes)
                        if position + 1 < length {
                            bytes[position + 1] = 0x22  // a second candidate just above the first
                            cases.append(bytes)
                        }
                    }
                }
                for bytes in cases {
                    bytes.withUnsafeBufferPointer { buffer in
                        let reader = JSONParser.Reader(bytes: buffer, maxDepth: 8)
                        for start in 0...bytes.count {
                            let end = reader.plainRunEnd(from: start)
                            #expect(end == naive(bytes, from: start), "\(bytes) from \(start)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked > 10_000)
    }
}
