import Foundation
import ScopeGate
import Testing

@Suite("scopegate suggest, diff, graph, test")
struct AnalysisCLITests {
    func tempFile(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-analysis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    /// An audit log made by `check --batch --log`, so suggest reads what the server really writes.
    func auditLog() throws -> String {
        let calls = """
            {"tool":"get_forecast","scopes":"mcp:tools:climate read:files admin:system","client_id":"climate-bot"}
            {"tool":"file_manager","arguments":{"action":"read","path":"/tmp/a"},"scopes":"mcp:tools:climate read:files admin:system","client_id":"climate-bot"}
            {"tool":"read_client","scopes":"mcp:tools:climate","client_id":"climate-bot"}
            {"tool":"read_client","scopes":"mcp:data:client-info:write","client_id":"crm-sync"}
            """
        let input = try tempFile("calls.jsonl", calls + "\n")
        let log = (input as NSString).deletingLastPathComponent + "/audit.jsonl"
        let r = try CLIRunner.run(["check", "--policy", "policies/climate.yaml", "--batch", input, "--log", log])
        #expect(r.status == 0, "\(r.stderr)")
        return log
    }

    @Test func suggestFromARealAuditLog() throws {
        let log = try auditLog()
        let r = try CLIRunner.run([
            "suggest", "--policy", "policies/climate.yaml", "--log", log, "--client-id", "climate-bot",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("client `climate-bot`: 3 events, 2 allowed"))
        #expect(r.stdout.contains("suggested: mcp:tools:climate read:files"))
        #expect(r.stdout.contains("unused access: none"))  // admin:system's closure contains read:files
        let json = try CLIRunner.run(["suggest", "--policy", "policies/climate.yaml", "--log", log, "--format", "json"])
        #expect(json.status == 0)
        guard case .object(let o) = try JSONParser().parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines)),
            case .array(let clients)? = o["clients"]
        else {
            Issue.record("bad json")
            return
        }
        #expect(clients.count == 2)
        #expect(json.stdout.contains("\"client_id\":\"crm-sync\""))
        #expect(json.stdout.contains("\"scopes\":[\"mcp:data:client-info:read\"]"))
    }

    @Test func suggestMalformedLinesExitTwoAfterProcessingTheRest() throws {
        let good =
            #"{"v":1,"client_id":"a","allowed":true,"required":["read:files"],"granted":["read:files","mcp:tools:climate"]}"#
        let log = try tempFile("audit.jsonl", [good, "{oops", good, #"{"v":1}"#].joined(separator: "\n") + "\n")
        let r = try CLIRunner.run(["suggest", "--policy", "policies/climate.yaml", "--log", log])
        #expect(r.status == 2)
        #expect(r.stderr.contains("audit.jsonl:2: malformed audit event"))
        #expect(r.stderr.contains("audit.jsonl:4: malformed audit event: not an audit event: missing"))
        #expect(r.stdout.contains("client `a`: 2 events"))
        #expect(r.stdout.contains("unused access: mcp:tools:climate"))
    }

    @Test func suggestUnknownClientAndUnreadableLogExitTwo() throws {
        let log = try auditLog()
        let r = try CLIRunner.run([
            "suggest", "--policy", "policies/climate.yaml", "--log", log, "--client-id", "nobody",
        ])
        #expect(r.status == 2)
        #expect(r.stderr.contains("unknown client id `nobody`"))
        #expect(r.stderr.contains("climate-bot"))
        let missing = try CLIRunner.run([
            "suggest", "--policy", "policies/climate.yaml", "--log", "/nonexistent/audit.jsonl",
        ])
        #expect(missing.status == 2)
    }

    @Test func diffGates() throws {
        let same = try CLIRunner.run(["diff", "policies/files.yaml", "policies/files.yaml", "--fail-on", "any-change"])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("no changes"))
        let text = try String(
            contentsOfFile: CLIRunner.repoRoot.appendingPathComponent("policies/files.yaml").path, encoding: .utf8)
        let lowered = try tempFile(
            "files.yaml", text.replacingOccurrences(of: "set_quota: admin:system", with: "set_quota: write:files"))
        let report = try CLIRunner.run(["diff", "policies/files.yaml", lowered])
        #expect(report.status == 0)
        #expect(report.stdout.contains("~ set_quota"))
        #expect(report.stdout.contains("scope write:files now reaches: set_quota [escalation]"))
        let gated = try CLIRunner.run([
            "diff", "policies/files.yaml", lowered, "--fail-on", "escalation", "--format", "github",
        ])
        #expect(gated.status == 1)
        #expect(gated.stdout.contains("::error file="))
        #expect(gated.stdout.contains("privilege escalation"))
        // Raising a requirement is a change, not an escalation.
        let raised = try CLIRunner.run([
            "diff", lowered, "policies/files.yaml", "--fail-on", "escalation", "--format", "json",
        ])
        #expect(raised.status == 0)
        #expect(raised.stdout.contains("\"escalations\":[]"))
        #expect(try CLIRunner.run(["diff", lowered, "policies/files.yaml", "--fail-on", "any-change"]).status == 1)
        #expect(try CLIRunner.run(["diff", "policies/files.yaml", "/nonexistent.yaml"]).status == 2)
    }

    @Test func graphFormats() throws {
        let dot = try CLIRunner.run(["graph", "--policy", "policies/github.yaml", "--format", "dot", "--tools"])
        #expect(dot.status == 0)
        #expect(dot.stdout.contains("\"scope:repo:admin\" -> \"scope:repo:write\" [label=\"implies\"];"))
        #expect(dot.stdout.contains("\"scope:repo:*\" -> \"scope:repo:read\" [style=dashed"))
        let mermaid = try CLIRunner.run(["graph", "--policy", "policies/entra.yaml", "--format", "mermaid"])
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart LR"))
        #expect(try CLIRunner.run(["graph", "--policy", "policies/entra.yaml", "--format", "svg"]).status == 2)
    }

    @Test func testCommandPassesFailsAndRejectsBadFiles() throws {
        for name in ["climate", "files", "github", "entra"] {
            let r = try CLIRunner.run([
                "test", "--policy", "policies/\(name).yaml", "policies/tests/\(name).tests.yaml", "--coverage",
            ])
            #expect(r.status == 0, "\(name): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains(" 0 failed"))
            #expect(r.stdout.contains("coverage: "))
        }
        let failing = try tempFile(
            "f.tests.yaml",
            """
            - name: set_quota with write
              scopes: [write:files]
              tool: set_quota
              expect: { allowed: true }
            """)
        let f = try CLIRunner.run(["test", "--policy", "policies/files.yaml", failing])
        #expect(f.status == 1)
        #expect(f.stdout.contains("FAIL set_quota with write"))
        #expect(f.stdout.contains("allowed: expected true, got false"))
        let bad = try tempFile(
            "b.tests.yaml", "- name: x\n  scopes: []\n  tool: t\n  expect: { allowed: true }\n  argumnets: {}\n")
        let b = try CLIRunner.run(["test", "--policy", "policies/files.yaml", bad])
        #expect(b.status == 2)
        #expect(b.stderr.contains("b.tests.yaml:5:3: error: unknown key `argumnets`"))
        let low = try CLIRunner.run([
            "test", "--policy", "policies/files.yaml", "policies/tests/files.tests.yaml",
            "--coverage-threshold", "100.0",
        ])
        let full = try CLIRunner.run([
            "test", "--policy", "policies/files.yaml", "policies/tests/files.tests.yaml", "--format", "json",
            "--coverage",
        ])
        #expect(full.status == 0)
        let percent = full.stdout.contains("\"percent\":100.0")
        #expect(low.status == (percent ? 0 : 1))
        #expect(
            try CLIRunner.run([
                "test", "--policy", "policies/files.yaml", "policies/tests/files.tests.yaml",
                "--coverage-threshold", "1",
            ]).status == 0)
    }
}
