import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine
import ScopeGateMCPClient
import ScopeGateOnboarding

struct Drift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Compare a policy with the tools a server lists now (and with a committed snapshot).",
        discussion: """
            Findings: server tools the policy does not name (SGD01; SGD02, an error, when only a catch-all or \
            public glob catches one), tools the policy names that the server no longer lists (SGD03), and against \
            --snapshot: annotations that raise a tool's risk (SGD04, e.g. read-only → destructive) and input-schema \
            changes to arguments a `when:` or `actions:` relies on (SGD05). --snapshot FILE writes the snapshot \
            when FILE is absent and compares against it when present; --update-snapshot rewrites it.
            Exit: 0 no findings, 1 findings, 2 usage error, unreachable server, unreadable file or a policy with \
            errors.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case human, json, github, sarif }

    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var source: ToolSourceOptions

    @Option(name: .long, help: ArgumentHelp("The committed tool snapshot.", valueName: "tools.lock.json"))
    var snapshot: String?

    @Flag(name: .long, help: "Rewrite the snapshot with the server's current tools (no snapshot comparison).")
    var updateSnapshot = false

    @Option(name: .long, help: "Output format: human, json, github or sarif.")
    var format: Format = .human

    func validate() throws {
        if updateSnapshot && snapshot == nil { throw ValidationError("--update-snapshot needs --snapshot FILE") }
    }

    func run() throws {
        let result = PolicyCompiler().compile(path: policyOptions.policy)
        // A policy with errors: `load` prints them and exits 2.
        guard result.model != nil, let policy = try? result.compiled() else {
            _ = try policyOptions.load()
            return
        }
        let (tools, _) = try source.load()
        var previous: [MCPTool]?
        if let snapshot {
            if updateSnapshot || !FileManager.default.fileExists(atPath: snapshot) {
                do { try ToolSnapshot.render(tools).write(toFile: snapshot, atomically: true, encoding: .utf8) } catch {
                    throw Output.fail("cannot write `\(snapshot)`: \(error.localizedDescription)")
                }
                Output.stderr(
                    "scopegate: wrote the snapshot of \(tools.count) tool\(tools.count == 1 ? "" : "s") to \(snapshot)\n"
                )
            } else {
                do { previous = try ToolSnapshot.read(path: snapshot) } catch {
                    throw Output.fail("the snapshot `\(snapshot)`: \(error.code.id): \(error.message)")
                }
            }
        }
        let findings = DriftCheck.check(policy: policy, tools: tools, snapshot: previous).sorted()
        let renderer = DiagnosticRenderer(sources: result.sources, color: Output.color(fd: 1))
        switch format {
        case .human:
            Output.stdout(
                findings.isEmpty
                    ? "no drift: \(tools.count) tool\(tools.count == 1 ? "" : "s"), all named by the policy\n"
                    : renderer.human(findings))
        case .json: Output.stdout(renderer.json(findings))
        case .github: Output.stdout(renderer.github(findings))
        case .sarif:
            Output.stdout(renderer.sarif(findings, toolVersion: ScopeGateCommand.version, rules: DriftCheck.codes))
        }
        if !findings.isEmpty { throw Exit.finding }
    }
}
