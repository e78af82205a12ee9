import Foundation
import Testing

/// What a new user hits first: a typo in a tool name, and a bad batch line that should still say which request
/// it was.
@Suite("scopegate CLI rough edges")
struct RoughEdgeCLITests {
    let climate = "policies/climate.yaml"

    /// A directory is a policy path when it holds `policy.yaml`; one without it is a located error, exit 2.
    @Test func aPolicyDirectoryWorksAndOneWithoutPolicyYamlExitsTwo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try CLIRunner.run(["lint", directory.path])
        #expect(missing.status == 2, "\(missing.stdout)\(missing.stderr)")
        let output = missing.stdout + missing.stderr
        #expect(output.contains("SG001"))
        #expect(output.contains("\(directory.path):1:1"))
        #expect(output.contains("has no `policy.yaml` or `policy.yml`"))

        try FileManager.default.copyItem(
            at: CLIRunner.repoRoot.appendingPathComponent(climate), to: directory.appendingPathComponent("policy.yaml"))
        let check = try CLIRunner.run([
            "check", "--policy", directory.path, "--tool", "get_forecast", "--scopes", "mcp:tools:climate",
        ])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func checkUnknownToolExitsTwoWithSuggestion() throws {
        let r = try CLIRunner.run([
            "check", "--policy", climate, "--tool", "get_forcast", "--scopes", "mcp:tools:climate",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("unknown tool `get_forcast`; did you mean `get_forecast`?"))
        let json = try CLIRunner.run([
            "check", "--policy", climate, "--tool", "get_forcast", "--scopes", "", "--format", "json",
        ])
        #expect(json.status == 2)
        #expect(json.stderr.contains("did you mean `get_forecast`?"))
    }

    @Test func checkToolCaughtByGlobIsKnown() throws {
        // `automation_*` matches it: a scope denial (exit 1), not an unknown tool.
        let r = try CLIRunner.run(["check", "--policy", climate, "--tool", "automation_anything", "--scopes", ""])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.hasPrefix("denied: missing_scope"))
    }

    @Test func requiresUnknownToolExitsTwoWithSuggestion() throws {
        let r = try CLIRunner.run(["requires", "get_forcast", "--policy", climate])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("unknown tool `get_forcast`; did you mean `get_forecast`?"))
    }

    @Test func batchErrorRecordsCarryTheRequestID() throws {
        let input = """
            {"id":7,"tool":"get_forecast"}
            {"id":"r2","tool":"get_forecast","scopes":
            {"tool":oops,"id":3}
            [1,2]
            {"id":"r5","tool":"get_forecast","scopes":5}
            """
        let r = try CLIRunner.run(["check", "--policy", climate, "--batch", "-"], stdin: input)
        #expect(r.status == 2)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(
            lines[0] == #"{"v":1,"line":1,"id":7,"error":{"code":"invalid_request","message":"missing \"scopes\""}}"#)
        #expect(lines[1].hasPrefix(#"{"v":1,"line":2,"id":"r2","error":{"code":"invalid_json""#))
        // The fault comes before the `id`: nothing to report.
        #expect(lines[2].hasPrefix(#"{"v":1,"line":3,"error":{"code":"invalid_json""#))
        #expect(lines[3].hasPrefix(#"{"v":1,"line":4,"error":{"code":"invalid_request""#))
        #expect(lines[4].hasPrefix(#"{"v":1,"line":5,"id":"r5","error":{"code":"invalid_request""#))
    }
}
