import ArgumentParser
import ScopeGate
import ScopeGateCommandLine

struct Minimal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "minimal",
        abstract: "What is the least a client must be granted? The least-privilege scope set.",
        discussion: """
            Objective: minimum privilege (sum of risk weights low 1, normal 2, sensitive 4, admin 16 over the \
            closure of the set), then fewest scopes, then lexicographic order. Equal-cost alternatives are listed. \
            `when` extras are left out and listed separately.
            Exit: 0, or 2 for an unknown tool, action or client, or a policy with errors.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: "One tool (with --action to restrict it).")
    var tool: String?

    @Option(name: .customLong("action"), help: "Restrict --tool to an action (repeatable).")
    var actions: [String] = []

    @Option(name: .long, help: "Comma-separated tool names.")
    var tools: String?

    @Option(name: .long, help: "A client profile from the policy's `clients:`.")
    var client: String?

    @Flag(name: .long, help: "Every client profile.")
    var allClients = false

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func validate() throws {
        let chosen = [tool != nil, tools != nil, client != nil, allClients].filter { $0 }.count
        if chosen != 1 { throw ValidationError("give exactly one of --tool, --tools, --client, --all-clients") }
        if !actions.isEmpty && tool == nil { throw ValidationError("--action goes with --tool") }
    }

    func run() throws {
        let policy = try policyOptions.load()
        let solver = LeastPrivilegeSolver(policy: policy)
        var questions: [(String, [ToolSelection])] = []
        if let tool { questions.append((tool, [ToolSelection(tool: tool, actions: actions.isEmpty ? nil : actions)])) }
        if let tools {
            let names = tools.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
            questions.append((names.joined(separator: ","), names.map { ToolSelection(tool: $0) }))
        }
        let clients: [ClientProfile]
        if let client {
            guard let profile = policy.model.clients.first(where: { $0.name == client }) else {
                throw Output.fail(
                    "unknown client `\(client)`",
                    help: "clients in this policy: " + policy.model.clients.map(\.name).joined(separator: ", "))
            }
            clients = [profile]
        } else {
            clients = allClients ? policy.model.clients : []
        }
        for c in clients {
            questions.append(("client \(c.name)", c.tools.map { ToolSelection(tool: $0.tool, actions: $0.actions) }))
        }
        var results: [(String, LeastPrivilegeResult)] = []
        for (label, selections) in questions {
            do {
                results.append((label, try solver.minimal(for: selections)))
            } catch {
                throw Output.fail(error.message)
            }
        }
        switch format {
        case .json:
            let items = results.map { "{\"for\":\(JSONText.quote($0.0)),\"result\":\(MinimalRender.json($0.1))}" }
            Output.stdout("{\"v\":1,\"answers\":[" + items.joined(separator: ",") + "]}\n")
        case .human:
            Output.stdout(results.map { MinimalRender.human($0.0, $0.1) }.joined(separator: "\n"))
        }
    }
}

enum MinimalRender {
    static func json(_ r: LeastPrivilegeResult) -> String {
        var out =
            "{\"scopes\":" + JSONText.array(r.scopes)
            + ",\"cost\":\(r.cost),\"optimal\":\(r.optimal),\"lower_bound\":\(r.lowerBound)"
        out += ",\"alternatives\":[" + r.alternatives.map(JSONText.array).joined(separator: ",") + "]"
        out +=
            ",\"needed_by\":{"
            + r.neededBy.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.array(r.neededBy[$0] ?? []))" }.joined(
                separator: ",") + "}"
        out +=
            ",\"conditional\":["
            + r.conditional.map { c in
                "{\"tool\":\(JSONText.quote(c.tool)),\"when\":\(JSONText.quote(c.when)),\"clauses\":["
                    + c.clauses.map(JSONText.array).joined(separator: ",") + "]}"
            }.joined(separator: ",") + "]}"
        return out
    }

    static func human(_ label: String, _ r: LeastPrivilegeResult) -> String {
        var out =
            "\(label):\n  scopes: " + (r.scopes.isEmpty ? "(none needed)" : r.scopes.joined(separator: " ")) + "\n"
        out +=
            "  privilege cost: \(r.cost) "
            + (r.optimal ? "(proven optimal)" : "(greedy, not proven optimal; lower bound \(r.lowerBound))") + "\n"
        for scope in r.scopes { out += "    \(scope) ← " + (r.neededBy[scope] ?? []).joined(separator: ", ") + "\n" }
        for alt in r.alternatives { out += "  equal-cost alternative: \(alt.joined(separator: " "))\n" }
        for c in r.conditional {
            out +=
                "  only when \(c.when) (\(c.tool)): "
                + c.clauses.map { $0.joined(separator: " + ") }.joined(separator: " OR ") + "\n"
        }
        return out
    }
}
