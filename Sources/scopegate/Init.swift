import ArgumentParser
import Foundation
import ScopeGateCommandLine
import ScopeGateOnboarding

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Draft a policy and its tests from an MCP server's tools.",
        discussion: """
            Reads every tool (following tools/list pagination) and drafts: a read, write and admin scope per tool \
            family (readOnlyHint: true → read; destructiveHint: false → write, implying read; destructive or \
            unannotated → admin, risk: admin), enum-typed action arguments as `actions:`, a `resource:` and \
            `tokens:` skeleton marked `review:`, and a test file with an allowed and a denied case per tool and \
            action. The draft passes `lint --strict`; its tests pass `scopegate test` (docs/onboarding.md).
            With -o FILE the tests go to DIR/tests/NAME.tests.yaml beside it (or --tests); without -o the policy \
            goes to stdout.
            Exit: 0 drafted, 2 usage error, unreachable server or unreadable tool list.
            """)

    @OptionGroup var source: ToolSourceOptions

    @Option(name: .long, help: ArgumentHelp("Scope prefix; default mcp:tools:SERVER.", valueName: "prefix"))
    var prefix: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the policy here.", valueName: "policy.yaml"))
    var output: String?

    @Option(name: .long, help: ArgumentHelp("Write the test file here.", valueName: "tests.yaml"))
    var tests: String?

    func run() throws {
        let (tools, serverName) = try source.load()
        let draft: PolicyDraft
        do {
            draft = try PolicyDraft(
                tools: tools, prefix: prefix ?? "mcp:tools:\(Self.scopeWord(serverName))", serverName: serverName)
        } catch {
            throw Output.fail(error.message)
        }
        for skipped in draft.skipped {
            Output.stderr("scopegate: warning: `\(skipped.name)` not drafted: \(skipped.reason)\n")
        }
        let testsPath = tests ?? output.map(Self.testsPath(for:))
        if let output { try write(draft.policyYAML, to: output) } else { Output.stdout(draft.policyYAML) }
        if let testsPath { try write(draft.testsYAML, to: testsPath) }
        Output.stderr(
            "scopegate: drafted \(plural(draft.tools.count, "tool")) of `\(serverName)`"
                + (output.map { " into \($0)" } ?? "") + (testsPath.map { ", tests in \($0)" } ?? "") + "\n")
    }

    /// `1 tool`, `12 tools`.
    func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

    /// `policies/git.yaml` → `policies/tests/git.tests.yaml`, as the repository's example policies are laid out.
    static func testsPath(for policy: String) -> String {
        let url = URL(fileURLWithPath: policy)
        let stem = url.deletingPathExtension().lastPathComponent
        let dir = (policy as NSString).deletingLastPathComponent
        return (dir.isEmpty ? "tests" : dir + "/tests") + "/\(stem).tests.yaml"
    }

    /// A server name as one scope segment: `mcp-server-git` and `mcp-git` → `git`; characters that are not
    /// letters, digits, `-`, `_` or `.` become `-`.
    static func scopeWord(_ name: String) -> String {
        var word = name.lowercased()
        for prefix in ["mcp-server-", "mcp_server_", "mcp-", "mcp_"] where word.hasPrefix(prefix) {
            word = String(word.dropFirst(prefix.count))
        }
        for suffix in ["-mcp-server", "-mcp", "_mcp", "-server"] where word.hasSuffix(suffix) {
            word = String(word.dropLast(suffix.count))
        }
        let kept = word.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }
        let result = String(kept).trimmingCharacters(in: CharacterSet(charactersIn: "-_."))
        return result.isEmpty ? "server" : result
    }

    private func write(_ text: String, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        do {
            if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw Output.fail("cannot write `\(path)`: \(error.localizedDescription)")
        }
    }
}
