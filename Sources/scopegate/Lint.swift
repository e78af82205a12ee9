import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check policy files and report every problem.",
        discussion: """
            Every diagnostic has a stable code (docs/diagnostics.md), a severity, file:line:column, the source \
            line with a caret, and a help line. Each FILE is compiled as a root policy (with its includes).
            Exit: 0 clean (warnings allowed unless --strict), 1 errors (or warnings with --strict), \
            2 a file could not be read.
            Formats: human (default), json, sarif (SARIF 2.1.0, for code scanning), github (workflow annotations).
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case human, json, sarif, github }

    @Argument(help: ArgumentHelp("Policy files (or directories holding policy.yaml) to check.", valueName: "path"))
    var files: [String]

    @Option(name: .long, help: "Output format: human, json, sarif or github.")
    var format: Format = .human

    @Flag(name: .long, help: "Treat warnings as errors for the exit code.")
    var strict = false

    @Option(name: .long, help: "Largest policy file accepted, in bytes.")
    var maxFileBytes: Int = LoadOptions().maxFileBytes

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one policy file") }
    }

    func run() throws {
        var options = LoadOptions()
        options.maxFileBytes = maxFileBytes
        let compiler = PolicyCompiler(options: options)
        var all = Diagnostics()
        var sources: [String: String] = [:]
        for file in files {
            let result = compiler.compile(path: file)
            all.append(contentsOf: result.diagnostics)
            sources.merge(result.sources) { a, _ in a }
        }
        let diagnostics = all.sorted()
        let renderer = DiagnosticRenderer(sources: sources, color: Output.color(fd: 1))
        switch format {
        case .human: Output.stdout(renderer.human(diagnostics))
        case .json: Output.stdout(renderer.json(diagnostics))
        case .sarif: Output.stdout(renderer.sarif(diagnostics, toolVersion: ScopeGateCommand.version))
        case .github: Output.stdout(renderer.github(diagnostics))
        }
        if diagnostics.contains(where: { $0.code == .unreadableFile }) { throw Exit.cannot }
        if diagnostics.hasErrors || (strict && diagnostics.count(.warning) > 0) { throw Exit.finding }
    }
}
