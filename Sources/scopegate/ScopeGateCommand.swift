import ArgumentParser
import Foundation
import ScopeGateCommandLine

/// `scopegate`: policy-driven scope authorization for MCP servers.
struct ScopeGateCommand: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "scopegate",
        abstract: "Policy-driven scope authorization for MCP servers.",
        discussion: """
            Policies are YAML files (see docs/policy-reference.md). Exit codes, for every subcommand:
              0  success (lint clean, allowed, tests passed, no gated change)
              1  a finding (lint errors, denied, failed test, tripped gate, token fails verification)
              2  cannot do the job (usage error, unreadable file, policy with errors, unknown tool or client)
            Colour is used only on a terminal, never when NO_COLOR is set.
            """,
        version: version,
        // Each subcommand names itself (`commandName:`): a name derived from the type costs a runtime scan of every
        // protocol conformance in the process, per command, at every start (about 3 ms in all).
        subcommands: [
            Lint.self, Scopes.self, Schema.self, Requires.self, Check.self, Minimal.self, Inspect.self, Suggest.self,
            Diff.self, Graph.self,
            TestCommand.self,
            Init.self, Drift.self, Doctor.self, Proxy.self, Authz.self, BundleCommand.self, Token.self,
        ]
    )
}

@main
enum Entry {
    static func main() async { await CommandMain.run(ScopeGateCommand.self) }
}
