import Foundation
import ScopeGate
import ScopeGateTesting
import Testing

@testable import scopegate

/// The `check --batch` byte reader and renderer against the JSONParser path they replace: on generated request
/// lines, hostile ones included, both must give exactly the same output bytes, the same ok flag and the same
/// audit line (apart from its time).
@Suite("batch line reader")
struct BatchReaderTests {
    static let policy: CompiledPolicy? = {
        let path = CLIRunner.repoRoot.appendingPathComponent("policies/climate.yaml").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let model = PolicyCompiler(options: LoadOptions(environment: [:])).compile(
                source: text, name: "policies/climate.yaml"
            ).model
        else { return nil }
        return CompiledPolicy(model: model)
    }()

    /// A deterministic generator, so failures reproduce.
    typealias Random = SplitMix64

    static let tools: [String] = [
        "get_forecast", "list_stations", "read_client", "automation_run", "automation_x", "delete_file",
        "export_report", "file_manager", "transfer_funds", "health_check", "nope", "", "caf\u{e9}",
    ]
    static let scopeTexts: [String] = [
        #""mcp:tools:climate""#, #""""#, #""read:files write:files""#, #""admin:system""#, #""mcp:*""#,
        #""mcp:data:client-info:write mcp:payments:write""#, #"["read:files","mcp:payments:large"]"#, #"[]"#,
        #"[ "mcp:tools:climate" , "bogus" ]"#, #""files:read unknown:scope""#, #""mcp:operations:automation:*""#,
        #""mcp:payments:write mcp:payments:large""#, #""a\"b""#, #"["x\u0041"]"#, #""\u00e9""#, #"[1]"#, #"null"#,
        #"{"a":1}"#, #""  read:files   ""#, #""read:files\tadmin:system""#,
    ]
    static let ids: [String] = [
        "1", "0", "-0", "-12", "123456789012345678", "-12345678901234567", "1234567890123456789",
        "99999999999999999999999", "1.0", "1.50", "1e3", "1E-2", "-0.0", "0.5e+3", "00", "1.", "-", "+1",
        #""a""#, #""""#, #""caf\u00e9""#, #""x\"y""#, #""\/""#, #""\b""#, #""é""#, "true", "false", "null",
        "[1]", "{}", #""\ud83d\ude00""#, #""\ud83d""#,
        "1234567890123456789012345678901234567890123456789012345678901234567890",
    ]
    static let deep31: String = String(repeating: #"{"a":"#, count: 31) + "1" + String(repeating: "}", count: 31)
    static let deep32: String = String(repeating: #"{"a":"#, count: 32) + "1" + String(repeating: "}", count: 32)
    static let arguments: [String] = [
        #"{}"#, #"null"#, #"{"action":"read"}"#, #"{"action":"write","path":"/tmp/x"}"#, #"{"action":"delete"}"#,
        #"{"action":5}"#, #"{"amount":5000}"#, #"{"amount":10,"currency":"EUR"}"#, #"{"amount":"big"}"#,
        #"{"amount":1e4}"#, #"{"amount":1000.0001}"#, #"{"a":1,"a":2}"#, #"[]"#, #""x""#, #"{"action":"re\u0061d"}"#,
        deep31, deep32,
        #"{"nested":[1,[2,[3]],{"k":null}],"action":"read"}"#,
    ]
    static let methods: [String] = [
        #""tools/call""#, #""resources/read""#, #""prompts/get""#, #""ping""#, #""logging/setLevel""#,
        #""nope/x""#, "7", #""tools\/call""#,
    ]

    /// One generated line: the known fields in a random order, some left out, some repeated, odd spacing.
    static func line(_ r: inout Random) -> [UInt8] {
        var members: [String] = []
        if r.below(3) > 0 { members.append(#""tool":"# + "\"" + r.pick(tools) + "\"") }
        if r.below(4) > 0 { members.append(#""scopes":"# + r.pick(scopeTexts)) }
        if r.below(2) == 0 { members.append(#""id":"# + r.pick(ids)) }
        if r.below(2) == 0 { members.append(#""arguments":"# + r.pick(arguments)) }
        if r.below(6) == 0 { members.append(#""method":"# + r.pick(methods)) }
        if r.below(8) == 0 { members.append(#""client_id":"# + r.pick([#""bot""#, "3", #""b\u006ft""#, "null"])) }
        if r.below(10) == 0 { members.append(#""name":"# + "\"" + r.pick(tools) + "\"") }
        if r.below(12) == 0 { members.append(#""uri":"# + r.pick([#""clients://42""#, #""files://x""#, "1"])) }
        if r.below(15) == 0 {
            members.append(
                r.pick([
                    #""extra":1"#, #""t\u006fol":"get_forecast""#, #""tool":"read_client""#,
                    #""scopes":"admin:system""#, #""id":2"#,
                ]))
        }
        for i in members.indices.reversed() where i > 0 {
            let j = r.below(i + 1)
            members.swapAt(i, j)
        }
        let spaces = ["", " ", "\t", " \r ", "\n"]
        let sep = r.below(4) == 0 ? r.pick(spaces) : ""
        var text = r.pick(["", "", " "]) + "{" + sep + members.joined(separator: sep + "," + sep) + sep + "}"
        if r.below(20) == 0 { text += r.pick([" x", "}", ",", " ", "\t"]) }
        var bytes = Array(text.utf8)
        switch r.below(12) {
        case 0 where !bytes.isEmpty: bytes.removeSubrange(r.below(bytes.count)...)  // truncated
        case 1 where !bytes.isEmpty:  // a bad byte
            bytes[r.below(bytes.count)] = r.pick([0xFF, 0xC3, 0x80, 0x00, 0x22, 0x5C, 0x7B])
        case 2:
            bytes = r.pick([
                Array("[]".utf8), Array("null".utf8), Array("\"x\"".utf8), Array("{}".utf8),
                [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],
            ])
        default: break
        }
        return bytes
    }

    static func maskTime(_ s: String?) -> String? {
        s?.replacingOccurrences(of: #""time":"[^"]*""#, with: #""time":"""#, options: .regularExpression)
    }

    @Test func readerAndRendererMatchTheParserPathOnGeneratedLines() throws {
        let policy = try #require(Self.policy)
        var fast = BatchProcessor(policy: policy, policyVersion: "test-1", audit: true)
        // Without an audit log, the common line takes the byte path (``BatchGrant``, ``BatchRecordWriter``).
        var bytePath = BatchProcessor(policy: policy, policyVersion: "test-1", audit: false)
        var reference = BatchProcessor(policy: policy, policyVersion: "test-1", audit: true)
        var r = Random(seed: 0x5C0FE)
        var fastLines = 0
        for n in 1...20_000 {
            let bytes = Self.line(&r)
            var out: [UInt8] = []
            var audit: [UInt8] = []
            let ok = bytes.withUnsafeBufferPointer { fast.process($0, lineNumber: n, output: &out, audit: &audit) }
            let expected = bytes.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: n) }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(out == Array((expected.output + "\n").utf8), "line \(n): \(text)")
            #expect(ok == expected.ok, "line \(n): \(text)")
            var byteOut: [UInt8] = []
            var noAudit: [UInt8] = []
            let byteOK = bytes.withUnsafeBufferPointer {
                bytePath.process($0, lineNumber: n, output: &byteOut, audit: &noAudit)
            }
            #expect(byteOut == out && noAudit.isEmpty, "line \(n), without audit: \(text)")
            #expect(byteOK == expected.ok, "line \(n), without audit: \(text)")
            let auditText = audit.isEmpty ? nil : String(decoding: audit.dropLast(), as: UTF8.self)
            #expect(Self.maskTime(auditText) == Self.maskTime(expected.audit), "line \(n): \(text)")
            if bytes.withUnsafeBufferPointer({ RequestLineReader.read($0, parser: fast.parser) }) != nil {
                fastLines += 1
            }
        }
        // The generator must exercise the byte reader itself, not only the fallback.
        #expect(fastLines > 2_500, "only \(fastLines) lines took the byte reader")
    }

    @Test func plainIdsAreEchoedAndOthersRenderedAsBefore() throws {
        let policy = try #require(Self.policy)
        var p = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        func id(_ raw: String) -> String {
            var out: [UInt8] = []
            var audit: [UInt8] = []
            let line = Array(#"{"id":\#(raw),"tool":"get_forecast","scopes":"mcp:tools:climate"}"#.utf8)
            _ = line.withUnsafeBufferPointer { p.process($0, lineNumber: 1, output: &out, audit: &audit) }
            let text = String(decoding: out, as: UTF8.self)
            guard let start = text.range(of: #""id":"#), let end = text.range(of: #","allowed""#) else { return "" }
            return String(text[start.upperBound..<end.lowerBound])
        }
        #expect(id("42") == "42")
        #expect(id("-0") == "0")
        #expect(id("1.50") == "1.5")
        #expect(id("1e3") == "1000")
        #expect(id(#""a\/b""#) == #""a/b""#)
        #expect(id(#""\u00e9""#) == "\"\u{e9}\"")
    }

    /// A record longer than the record writer's first buffer (a long string id, many unknown scopes) is written
    /// again into a larger one and comes out as the parser path renders it.
    @Test func recordsLongerThanTheWriterBufferMatchTheParserPath() throws {
        let policy = try #require(Self.policy)
        var bytePath = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        var reference = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        for size in [10, 4_000, 5_000, 20_000] {
            let id = String(repeating: "i", count: size)
            let unknown = (0..<(size / 100)).map { "unknown:scope\($0)" }.joined(separator: " ")
            let line = Array(#"{"id":"\#(id)","tool":"get_forecast","scopes":"mcp:tools:x \#(unknown)"}"#.utf8)
            var out: [UInt8] = []
            var audit: [UInt8] = []
            let ok = line.withUnsafeBufferPointer { bytePath.process($0, lineNumber: 7, output: &out, audit: &audit) }
            let expected = line.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: 7) }
            #expect(ok && expected.ok)
            #expect(out.count > size)
            #expect(String(decoding: out, as: UTF8.self) == expected.output + "\n", "id of \(size) bytes")
        }
    }

    /// With two unknown fields the error names the smallest, every time: naming "the first" in a dictionary's
    /// iteration order, which differs between dictionary instances, would answer the same line two ways (found by
    /// the `jsonl` fuzz target).
    @Test func severalUnknownFieldsAlwaysNameTheSmallest() throws {
        let policy = try #require(Self.policy)
        var fast = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        var reference = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        let line = Array(
            #"{".id":"a","tool":"transfer","arguments":{"amount":5000},"3copes":["pay:write"],"zz":1}"#.utf8)
        let expected = #"{"v":1,"line":2,"error":{"code":"invalid_request","message":"unknown field \".id\""}}"#
        for _ in 0..<200 {
            var out: [UInt8] = []
            var audit: [UInt8] = []
            let ok = line.withUnsafeBufferPointer { fast.process($0, lineNumber: 2, output: &out, audit: &audit) }
            #expect(!ok)
            #expect(String(decoding: out, as: UTF8.self) == expected + "\n")
            #expect(
                line.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: 2) }.output == expected)
        }
    }

    /// The reference path's grant cache tells `[]` from `[""]`: a key that joined the items would give both one
    /// entry, and the second line would be answered with the first one's grant (no `ignored` entry).
    @Test func referenceGrantCacheTellsAnEmptyListFromAListWithAnEmptyString() throws {
        let policy = try #require(Self.policy)
        var reference = BatchProcessor(policy: policy, policyVersion: "v", audit: false)
        let empty = Array(#"{"tool":"get_forecast","scopes":[]}"#.utf8)
        let blank = Array(#"{"tool":"get_forecast","scopes":[""]}"#.utf8)
        let first = empty.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: 1) }
        let second = blank.withUnsafeBufferPointer { reference.processWithJSONParser($0, lineNumber: 2) }
        #expect(first.output.contains(#""ignored":[]"#))
        #expect(second.output.contains(#""ignored":[{"scope":"","why":"#))
    }

    @Test func linesAfterAnOverLongLineAreAllAnswered() throws {
        let long = #"{"tool":"get_forecast","scopes":""# + String(repeating: "x", count: (1 << 20) + 70_000) + "\"}"
        let input =
            long + "\n" + #"{"id":1,"tool":"get_forecast","scopes":"mcp:tools:climate"}"# + "\n"
            + #"{"id":2,"tool":"get_forecast","scopes":""}"#
        let r = try CLIRunner.run(["check", "--policy", "policies/climate.yaml", "--batch", "-"], stdin: input)
        #expect(r.status == 2)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix(#"{"v":1,"line":1,"error":{"code":"line_too_long""#) == true)
        #expect(lines.dropFirst().first?.hasPrefix(#"{"v":1,"line":2,"id":1,"allowed":true"#) == true)
        #expect(lines.last?.hasPrefix(#"{"v":1,"line":3,"id":2,"allowed":false"#) == true)
    }
}
