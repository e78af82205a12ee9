import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine

struct Suggest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "From an audit log, suggest each client's least-privilege scopes and show unused access.",
        discussion: """
            Reads audit events (JSON Lines, docs/records.md) in bounded memory; only `v`, `client_id`, `allowed`, \
            `required` and `granted` are read, never argument values. Per client: the least-privilege set that \
            would have allowed every observed allowed call (each distinct `required` clause is one requirement), \
            and the granted scopes never used (their closure contains none of the required scopes).
            A malformed line is reported on stderr with its line number, the rest is processed, and the command \
            then exits 2. Exit: 0, or 2 for malformed lines, an unreadable log, a policy with errors, or a \
            --client-id with no events in the log.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: ArgumentHelp("Audit log (JSON Lines; '-' for standard input).", valueName: "file"))
    var log: String

    @Option(name: .customLong("client-id"), help: "Only this client.")
    var clientID: String?

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func run() throws {
        let policy = try policyOptions.load()
        let fd: Int32 = log == "-" ? 0 : open(log, O_RDONLY)
        guard fd >= 0 else {
            throw Output.fail(
                "cannot read the audit log `\(log)`", help: "check the path, or use `-` for standard input")
        }
        defer { if fd != 0 { close(fd) } }
        var aggregator = UsageAggregator(clientFilter: clientID)
        var reported = 0
        let reportLimit = 100
        let name = log == "-" ? "<stdin>" : log
        let ok = aggregator.consume(fileDescriptor: fd) { error in
            reported += 1
            if reported <= reportLimit {
                Output.stderr("scopegate: \(name):\(error.line): malformed audit event: \(error.message)\n")
            }
        }
        guard ok else { throw Output.fail("cannot read the audit log `\(log)`") }
        if reported > reportLimit {
            Output.stderr("scopegate: \(reported - reportLimit) more malformed lines not shown\n")
        }
        if let clientID, !aggregator.clientIDs.contains(clientID) {
            let seen = aggregator.clientIDs
            throw Output.fail(
                "unknown client id `\(clientID)`: no events for it in `\(name)`",
                help: seen.isEmpty
                    ? "the log has no events with a client id"
                    : "client ids in the log: " + seen.prefix(10).joined(separator: ", ")
                        + (seen.count > 10 ? ", …" : ""))
        }
        let solver = LeastPrivilegeSolver(policy: policy)
        let suggestions = aggregator.usage.map { solver.suggest(for: $0) }
        switch format {
        case .json:
            var out = "{\"v\":1,\"lines\":\(aggregator.lines),\"malformed\":\(aggregator.malformed),\"clients\":["
            out += suggestions.map(Self.json).joined(separator: ",") + "]}\n"
            Output.stdout(out)
        case .human:
            var out = suggestions.map(Self.human).joined(separator: "\n")
            if suggestions.isEmpty { out += "no events\n" }
            out +=
                "\n\(aggregator.lines) events read"
                + (aggregator.malformed > 0 ? ", \(aggregator.malformed) malformed" : "") + "\n"
            Output.stdout(out)
        }
        if aggregator.malformed > 0 { throw Exit.cannot }
    }

    static func json(_ s: UsageSuggestion) -> String {
        var out = "{\"client_id\":" + (s.usage.clientID.map(JSONText.quote) ?? "null")
        out += ",\"events\":\(s.usage.events),\"allowed\":\(s.usage.allowed)"
        out += ",\"required\":[" + s.usage.requiredClauses.map(JSONText.array).joined(separator: ",") + "]"
        out += ",\"granted\":" + JSONText.array(s.usage.granted) + ",\"granted_cost\":\(s.grantedCost)"
        out += ",\"suggested\":" + MinimalRender.json(s.leastPrivilege)
        out += ",\"unused\":" + JSONText.array(s.unused)
        out += ",\"unknown_granted\":" + JSONText.array(s.unknownGranted)
        out += ",\"unknown_required\":" + JSONText.array(s.unknownRequired) + "}"
        return out
    }

    static func human(_ s: UsageSuggestion) -> String {
        let u = s.usage
        var out =
            "client \(u.clientID.map { "`\($0)`" } ?? "(no client id)"): \(u.events) events, \(u.allowed) allowed, "
        out += "\(u.requiredClauses.count) distinct requirement\(u.requiredClauses.count == 1 ? "" : "s")\n"
        let r = s.leastPrivilege
        out += "  suggested: " + (r.scopes.isEmpty ? "(no scopes needed)" : r.scopes.joined(separator: " "))
        out +=
            "  (cost \(r.cost)" + (r.optimal ? ", optimal" : ", not proven optimal; lower bound \(r.lowerBound)")
            + ")\n"
        for scope in r.scopes { out += "    \(scope) ← " + (r.neededBy[scope] ?? []).joined(separator: ", ") + "\n" }
        for alt in r.alternatives { out += "  equal-cost alternative: \(alt.joined(separator: " "))\n" }
        out +=
            "  granted: " + (u.granted.isEmpty ? "(nothing)" : u.granted.joined(separator: " "))
            + "  (cost \(s.grantedCost))\n"
        out += "  unused access: " + (s.unused.isEmpty ? "none" : s.unused.joined(separator: " ")) + "\n"
        if !s.unknownGranted.isEmpty {
            out += "  granted but not defined by the policy: \(s.unknownGranted.joined(separator: " "))\n"
        }
        if !s.unknownRequired.isEmpty {
            out +=
                "  required in the log but not defined by the policy (left out): \(s.unknownRequired.joined(separator: " "))\n"
        }
        return out
    }
}
