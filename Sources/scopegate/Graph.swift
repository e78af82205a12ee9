import ArgumentParser
import ScopeGate
import ScopeGateCommandLine

extension ScopeGraph.Format: ExpressibleByArgument {}

struct Graph: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw the scope hierarchy (Graphviz DOT or Mermaid), optionally with the tools each scope unlocks.",
        discussion: """
            Solid edges: `implies`. Dashed edges: wildcard coverage. Fill colour by risk (low green, normal blue, \
            sensitive orange, admin red and bold). With --tools, an edge from a scope to each tool whose \
            least-privilege set contains it.
            Render DOT with `dot -Tsvg`; paste Mermaid into a `mermaid` code block on GitHub.
            Exit: 0, or 2 for a policy with errors.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: "Output format: dot or mermaid.")
    var format: ScopeGraph.Format

    @Flag(name: .long, help: "Add the tools each scope unlocks.")
    var tools = false

    func run() throws {
        let policy = try policyOptions.load()
        Output.stdout(ScopeGraph(policy: policy, tools: tools).render(format))
    }
}
