import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run policy unit tests (YAML cases of scopes, call and expected decision).",
        discussion: """
            Each TESTS file is a YAML list of cases {name, scopes, tool, method?, action?, arguments?, \
            expect: {allowed?, reason?, missing?, minimal?}} (docs/policy-tests.md). Failures show expected vs \
            actual. --coverage lists the tools, actions, `when` conditions and requirement clauses no case \
            exercised; --coverage-threshold N fails below N percent.
            Exit: 0 all passed, 1 a case failed or coverage is below the threshold, 2 a bad test file \
            (file:line:column) or a policy with errors.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Argument(help: ArgumentHelp("Test files (YAML).", valueName: "tests.yaml"))
    var files: [String]

    @Flag(name: .long, help: "Report what the cases did not exercise.")
    var coverage = false

    @Option(name: .long, help: ArgumentHelp("Fail (exit 1) when coverage is below this percentage.", valueName: "N"))
    var coverageThreshold: Double?

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one test file") }
        if let t = coverageThreshold, !(0...100).contains(t) {
            throw ValidationError("--coverage-threshold is a percentage (0-100)")
        }
    }

    func run() throws {
        let policy = try policyOptions.load()
        var parsed: [PolicyTestFile] = []
        var bad = false
        for file in files {
            do {
                parsed.append(try PolicyTestParser.load(path: file))
            } catch {
                bad = true
                Output.stderr(error.description + "\n")
            }
        }
        if bad { throw Output.fail("bad test file", help: "see docs/policy-tests.md for the format") }
        var runner = PolicyTestRunner(policy: policy)
        var results: [(String, [PolicyTestResult])] = []
        for file in parsed { results.append((file.path, runner.run(file))) }
        let all = results.flatMap(\.1)
        let failed = all.filter { !$0.passed }.count
        let showCoverage = coverage || coverageThreshold != nil
        let cov = runner.coverage
        switch format {
        case .json:
            var out = "{\"v\":1,\"passed\":\(all.count - failed),\"failed\":\(failed),\"results\":["
            out +=
                all.map { r in
                    var s =
                        "{\"name\":\(JSONText.quote(r.testCase.name)),\"location\":\(JSONText.quote(r.testCase.location.description))"
                    s += ",\"passed\":\(r.passed),\"failures\":" + JSONText.array(r.failures)
                    s +=
                        ",\"actual\":{\"allowed\":\(r.allowed),\"reason\":\(JSONText.quote(r.reason)),\"missing\":\(JSONText.array(r.missing))"
                    if let m = r.minimal { s += ",\"minimal\":" + JSONText.array(m) }
                    return s + "}}"
                }.joined(separator: ",") + "]"
            if showCoverage {
                out += ",\"coverage\":{\"percent\":\(Self.percent(cov.percent)),\"uncovered\":["
                out +=
                    cov.items.filter { !$0.covered }.map {
                        "{\"kind\":\(JSONText.quote($0.kind)),\"label\":\(JSONText.quote($0.label)),\"location\":\(JSONText.quote($0.location.description))}"
                    }.joined(separator: ",") + "]}"
            }
            Output.stdout(out + "}\n")
        case .human:
            var out = ""
            for (path, list) in results {
                out += "\(path): \(list.filter(\.passed).count)/\(list.count) passed\n"
                for r in list where !r.passed {
                    out += "  FAIL \(r.testCase.name)  (\(r.testCase.location))\n"
                    for f in r.failures { out += "       \(f)\n" }
                }
            }
            out += "\n\(all.count - failed) passed, \(failed) failed\n"
            if showCoverage {
                out += "coverage: \(Self.percent(cov.percent))%"
                for kind in ["tool", "action", "when", "clause"] {
                    let (c, t) = cov.count(kind)
                    out += "  \(kind)s \(c)/\(t)"
                }
                out += "\n"
                for item in cov.items where !item.covered {
                    out += "  not exercised: \(item.kind) `\(item.label)` (\(item.location))\n"
                }
            }
            Output.stdout(out)
        }
        if failed > 0 { throw Exit.finding }
        if let threshold = coverageThreshold, cov.percent < threshold {
            Output.stderr(
                "scopegate: coverage \(Self.percent(cov.percent))% is below the threshold of \(Self.percent(threshold))%\n"
            )
            throw Exit.finding
        }
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f", p) }
}
