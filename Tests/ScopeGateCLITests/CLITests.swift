import Foundation
import ScopeGate
import Testing

@Suite("scopegate CLI")
struct CLITests {
    let climate = "policies/climate.yaml"

    func tempFile(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func lintCleanPolicyExitsZero() throws {
        let r = try CLIRunner.run(["lint", "--strict", climate])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("0 errors, 0 warnings"))
    }

    @Test func lintErrorShowsCaretHelpAndExitsOne() throws {
        let path = try tempFile(
            "typo.yaml",
            """
            version: 1
            scopes:
              mcp:tools:climate: {}
            tools:
              get_forecast: mcp:tool:climate
            """)
        let r = try CLIRunner.run(["lint", path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("error[SG202]: unknown scope `mcp:tool:climate`; did you mean `mcp:tools:climate`?"))
        #expect(r.stdout.contains("\(path):5:17"))
        #expect(r.stdout.contains("5 |   get_forecast: mcp:tool:climate"))
        #expect(r.stdout.contains("                ^"))
        #expect(r.stdout.contains("= help: rename it to `mcp:tools:climate`"))
    }

    @Test func lintUnreadableFileExitsTwo() throws {
        let r = try CLIRunner.run(["lint", "/nonexistent/policy.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("SG001"))
    }

    @Test func lintStrictFailsOnWarnings() throws {
        let path = try tempFile(
            "warn.yaml",
            """
            version: 1
            scopes:
              a: {}
              b:*: {}
            tools:
              t: a
            """)
        #expect(try CLIRunner.run(["lint", path]).status == 0)
        let strict = try CLIRunner.run(["lint", "--strict", path])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("warning[SG302]"))
    }

    @Test func lintJSONAndGitHubAndSARIF() throws {
        let path = try tempFile("bad.yaml", "version: 1\nscopes:\n  a: {}\ntools:\n  t: { requries: a }\n")
        let json = try CLIRunner.run(["lint", "--format", "json", path])
        #expect(json.status == 1)
        guard case .object(let o) = try JSONParser().parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            case .array(let diags)? = o["diagnostics"],
            case .object(let first)? = diags.first(where: {
                if case .object(let d) = $0 { return d["code"] == .string("SG101") }
                return false
            })
        else {
            Issue.record("not a JSON lint report: \(json.stdout)")
            return
        }
        #expect(diags.count == 2, "the typo also leaves the tool without a requirement (SG409)")
        #expect(first["message"] == .string("unknown key `requries` in tool `t`; did you mean `requires`?"))
        #expect(first["line"] == .number(5))
        #expect(first["column"] == .number(8))
        let github = try CLIRunner.run(["lint", "--format", "github", path])
        #expect(github.stdout.contains("::error file=\(path),line=5,col=8,title=SG101 unknown-key::"))
        let sarif = try CLIRunner.run(["lint", "--format", "sarif", path])
        guard
            case .object(let log) = try JSONParser().parse(sarif.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            case .array(let runs)? = log["runs"], case .object(let run)? = runs.first,
            case .array(let results)? = run["results"], case .object(let result)? = results.last,
            case .object(let tool)? = run["tool"], case .object(let driver)? = tool["driver"],
            case .array(let rules)? = driver["rules"]
        else {
            Issue.record("not a SARIF log: \(sarif.stdout)")
            return
        }
        #expect(log["version"] == .string("2.1.0"))
        #expect(result["ruleId"] == .string("SG101"))
        #expect(result["level"] == .string("error"))
        #expect(rules.count == Diagnostic.Code.all.count)
    }

    @Test func checkExitCodes() throws {
        let allow = try CLIRunner.run([
            "check", "--policy", climate, "--tool", "get_forecast", "--scopes", "mcp:tools:climate",
        ])
        #expect(allow.status == 0)
        #expect(allow.stdout.hasPrefix("allowed"))
        let deny = try CLIRunner.run([
            "check", "--policy", climate, "--tool", "file_manager", "--args", #"{"action":"delete"}"#,
            "--scopes", "write:files", "--format", "json",
        ])
        #expect(deny.status == 1)
        #expect(deny.stdout.contains(#""reason":"missing_scope""#))
        #expect(deny.stdout.contains(#""missing":["admin:system"]"#))
        #expect(deny.stdout.contains(#"scope=\"write:files admin:system\""#))
        let usage = try CLIRunner.run(["check", "--policy", climate, "--tool", "x"])
        #expect(usage.status == 2)
        let badArgs = try CLIRunner.run(["check", "--policy", climate, "--tool", "x", "--scopes", "", "--args", "{"])
        #expect(badArgs.status == 2)
        #expect(badArgs.stderr.contains("--args is not valid JSON"))
        let missingPolicy = try CLIRunner.run(["check", "--policy", "nope.yaml", "--tool", "x", "--scopes", ""])
        #expect(missingPolicy.status == 2)
    }

    @Test func explainNamesRuleClauseAndIgnoredScopes() throws {
        let r = try CLIRunner.run([
            "check", "--policy", climate, "--tool", "automation_run_report", "--scopes",
            "mcp:* mcp:operations:automation:*", "--explain",
        ])
        #expect(r.status == 0)
        #expect(r.stdout.contains("matched rule `automation_*`"))
        #expect(r.stdout.contains("satisfied by [mcp:operations:automation:workflows:run]"))
        #expect(r.stdout.contains("ignored granted `mcp:*`: undefined wildcard"))
    }

    @Test func batchStreamsAnswersBadLinesInPlaceAndExitsTwo() throws {
        let input = """
            {"id":1,"tool":"get_forecast","scopes":"mcp:tools:climate"}
            {"id":"b","tool":"read_client","scopes":["mcp:tools:climate"]}
            not json
            {"tool":"nope","scopes":""}
            {"tool":"get_forecast"}
            """
        let r = try CLIRunner.run(["check", "--policy", climate, "--batch", "-"], stdin: input)
        #expect(r.status == 2)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0].hasPrefix(#"{"v":1,"line":1,"id":1,"allowed":true,"reason":"allowed""#))
        #expect(lines[1].contains(#""id":"b","allowed":false,"reason":"missing_scope""#))
        #expect(lines[1].contains(#""missing":["mcp:data:client-info:read"]"#))
        #expect(lines[2].hasPrefix(#"{"v":1,"line":3,"error":{"code":"invalid_json""#))
        #expect(lines[3].contains(#""reason":"unknown_tool""#))
        #expect(lines[4].contains(#""error":{"code":"invalid_request","message":"missing \"scopes\""}"#))
    }

    @Test func batchDeniesKeepExitZeroAndAuditRedacts() throws {
        let log = try tempFile("audit.jsonl", "")
        let input =
            #"{"tool":"file_manager","arguments":{"action":"read","path":"/tmp/a","secret":"s3"},"scopes":"read:files","client_id":"bot"}"#
            + "\n" + #"{"tool":"read_client","scopes":""}"#
        let r = try CLIRunner.run(["check", "--policy", climate, "--batch", "-", "--log", log], stdin: input)
        #expect(r.status == 0)
        let audit = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(audit.count == 2)
        #expect(audit[0].contains(#""client_id":"bot""#))
        #expect(audit[0].contains(#""action":"read""#))
        #expect(audit[0].contains(#""secret":"[redacted]""#))
        #expect(!audit[0].contains("s3"))
        #expect(audit[0].contains(#""required":["read:files"]"#))
        #expect(audit[1].contains(#""allowed":false"#))
    }

    @Test func requiresAndMinimal() throws {
        let r = try CLIRunner.run(["requires", "file_manager", "--policy", climate])
        #expect(r.status == 0)
        #expect(r.stdout.contains("action `delete`: admin:system"))
        #expect(r.stdout.contains("least privilege: admin:system  (cost 20, optimal)"))
        let unknown = try CLIRunner.run(["requires", "nope", "--policy", climate])
        #expect(unknown.status == 2)
        let m = try CLIRunner.run(["minimal", "--policy", climate, "--client", "climate-bot", "--format", "json"])
        #expect(m.status == 0)
        #expect(
            m.stdout.contains(#""scopes":["mcp:operations:automation:workflows:run","mcp:tools:climate","read:files"]"#)
        )
        #expect(try CLIRunner.run(["minimal", "--policy", climate, "--client", "ghost"]).status == 2)
        #expect(try CLIRunner.run(["minimal", "--policy", climate]).status == 2)
    }

    @Test func policyWithErrorsIsExitTwoForNonLintCommands() throws {
        let path = try tempFile("broken.yaml", "version: 1\ntools:\n  t: undefined:scope\n")
        let r = try CLIRunner.run(["check", "--policy", path, "--tool", "t", "--scopes", ""])
        #expect(r.status == 2)
        #expect(r.stderr.contains("SG202"))
    }

    @Test(arguments: ["lint", "scopes", "schema", "requires", "check", "minimal"])
    func helpIsCompleteForEachSubcommand(_ sub: String) throws {
        let r = try CLIRunner.run([sub, "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("USAGE: scopegate \(sub)"))
        #expect(r.stdout.contains("OVERVIEW:"))
    }

    @Test func schemaIsJSON() throws {
        let r = try CLIRunner.run(["schema"])
        #expect(r.status == 0)
        guard case .object(let o) = try JSONParser().parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            Issue.record("schema is not a JSON object")
            return
        }
        #expect(o["$schema"] == .string("http://json-schema.org/draft-07/schema#"))
    }
}
