import ArgumentParser
import ScopeGate
import ScopeGateCommandLine

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of the policy format.",
        discussion: """
            For editors with a YAML language server: save the output (e.g. as scopegate.schema.json) and add \
            `# yaml-language-server: $schema=./scopegate.schema.json` at the top of a policy file.
            """)

    func run() throws { Output.stdout(PolicySchema.json + "\n") }
}
