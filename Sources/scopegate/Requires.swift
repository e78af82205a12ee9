import ArgumentParser
import ScopeGate
import ScopeGateCommandLine

struct Requires: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requires",
        abstract: "Which scopes does this tool need? Prints the requirement clauses and the least-privilege set.",
        discussion: """
            Without --action, a tool with actions shows every action. With --args, the `when` extras that match \
            those arguments are included; without, they are listed separately.
            Exit: 0, or 2 for an unknown tool or action or a policy with errors.
            """)

    @Argument(help: "Tool name (exact, or a name one of the tool globs matches).")
    var tool: String

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .customLong("action"), help: "Restrict to an action (repeatable).")
    var actions: [String] = []

    @Option(name: .customLong("args"), help: "Call arguments as a JSON object, to evaluate `when` conditions.")
    var arguments: String?

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func run() throws {
        let policy = try policyOptions.load()
        let args = try parseArguments(arguments)
        guard
            let ruleIndex = policy.toolRuleIndex(for: tool)
                ?? policy.model.tools.firstIndex(where: { $0.pattern == tool })
        else {
            throw Check.unknownTool(tool, in: policy, path: policyOptions.policy)
        }
        let rule = policy.model.tools[ruleIndex]
        let selection = ToolSelection(tool: tool, actions: actions.isEmpty ? nil : actions)
        let least: LeastPrivilegeResult
        do {
            least = try LeastPrivilegeSolver(policy: policy).minimal(for: [selection])
        } catch {
            throw Output.fail(error.message)
        }
        var parts: [(String, [[String]])] = []
        if let r = rule.requirement { parts.append(("requires", r.clauses)) }
        let chosenActions = (rule.actions ?? []).filter { actions.isEmpty || actions.contains($0.name) }
        for a in chosenActions { if let r = a.requirement { parts.append(("action `\(a.name)`", r.clauses)) } }
        var conditional: [(String, [[String]], Bool)] = []
        var notes: [String] = []
        let whens = rule.when + chosenActions.flatMap(\.when)
        for w in whens {
            let label = w.conditions.map { c in "\(c.argument): " + c.matchers.map(describe).joined(separator: ", ") }
                .joined(separator: "; ")
            let applies = arguments != nil && w.matches(args, notes: &notes)
            conditional.append((label, w.requirement.clauses, applies))
        }
        switch format {
        case .json:
            func clausesJSON(_ c: [[String]]) -> String {
                "[" + c.map { JSONText.array($0) }.joined(separator: ",") + "]"
            }
            var out = "{\"v\":1,\"tool\":\(JSONText.quote(tool)),\"rule\":\(JSONText.quote(rule.pattern)),"
            out += "\"location\":\(JSONText.quote(rule.location.description)),\"public\":\(rule.isPublic),"
            out +=
                "\"parts\":["
                + parts.map { "{\"source\":\(JSONText.quote($0.0)),\"clauses\":\(clausesJSON($0.1))}" }.joined(
                    separator: ",") + "],"
            out +=
                "\"when\":["
                + conditional.map {
                    "{\"condition\":\(JSONText.quote($0.0)),\"clauses\":\(clausesJSON($0.1)),\"applies\":\($0.2)}"
                }.joined(separator: ",") + "],"
            out += "\"least_privilege\":" + MinimalRender.json(least) + "}\n"
            Output.stdout(out)
        case .human:
            var out =
                "tool `\(tool)`" + (rule.pattern != tool ? " (rule `\(rule.pattern)`)" : "") + " at \(rule.location)\n"
            if rule.isPublic { out += "  public: any valid token may call it\n" }
            for (source, clauses) in parts {
                out += "  \(source): " + clauses.map { $0.joined(separator: " + ") }.joined(separator: "  OR  ") + "\n"
            }
            for (label, clauses, applies) in conditional {
                out += "  when \(label): " + clauses.map { $0.joined(separator: " + ") }.joined(separator: "  OR  ")
                out +=
                    arguments == nil
                    ? "  (conditional)\n" : (applies ? "  (applies to these arguments)\n" : "  (does not apply)\n")
            }
            out += "least privilege: " + (least.scopes.isEmpty ? "(none)" : least.scopes.joined(separator: " "))
            out +=
                "  (cost \(least.cost)\(least.optimal ? ", optimal" : ", not proven optimal; lower bound \(least.lowerBound)"))\n"
            for alt in least.alternatives { out += "  equal-cost alternative: \(alt.joined(separator: " "))\n" }
            if arguments != nil {
                let call = Call.tool(tool, arguments: args)
                let withArgs = conditional.filter(\.2)
                if !withArgs.isEmpty {
                    out +=
                        "with these arguments, also: "
                        + withArgs.map { $0.1.map { $0.joined(separator: " + ") }.joined(separator: " OR ") }.joined(
                            separator: "; ") + "\n"
                }
                _ = call
            }
            for n in notes { out += "note: \(n)\n" }
            Output.stdout(out)
        }
    }

    func describe(_ m: ArgumentMatcher) -> String {
        switch m {
        case .equals(let v): return "= \(v.jsonText)"
        case .in(let vs): return "in \(JSONValue.array(vs).jsonText)"
        case .notIn(let vs): return "not in \(JSONValue.array(vs).jsonText)"
        case .gt(let d): return "> \(d)"
        case .gte(let d): return ">= \(d)"
        case .lt(let d): return "< \(d)"
        case .lte(let d): return "<= \(d)"
        case .prefix(let p): return "prefix \(JSONText.quote(p))"
        case .glob(let g): return "glob \(JSONText.quote(g))"
        case .exists(let b): return b ? "exists" : "absent"
        }
    }
}
