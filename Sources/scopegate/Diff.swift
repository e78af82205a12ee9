import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two policies: changed requirements, reach per scope and client, privilege escalations.",
        discussion: """
            A rule (tool, resource, prompt, method) is reachable from a scope when every requirement part — \
            `requires` and each action's requirement — has a clause within the scope's closure. Escalations: a \
            scope or client (in both policies) now reaches a rule it could not, a rule needs less privilege, a \
            rule became public, a new public rule. Clients are compared with their declared `scopes`, else \
            their least-privilege set in OLD.
            Exit: 0, 1 when the --fail-on gate trips (escalation, or any-change), 2 for an unreadable policy or \
            one with errors.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case human, json, github }
    enum Gate: String, ExpressibleByArgument, CaseIterable {
        case escalation
        case anyChange = "any-change"
    }

    @Argument(help: ArgumentHelp("The old policy (e.g. from the base branch).", valueName: "old"))
    var old: String

    @Argument(help: ArgumentHelp("The new policy.", valueName: "new"))
    var new: String

    @Option(name: .long, help: "Output format: human, json or github (workflow annotations).")
    var format: Format = .human

    @Option(name: .customLong("fail-on"), help: "Exit 1 on: escalation or any-change.")
    var failOn: Gate?

    static func load(_ path: String) throws -> CompiledPolicy { try PolicyOptions(policy: path).load() }

    func run() throws {
        let diff = PolicyDiff(old: try Self.load(old), new: try Self.load(new))
        let tripped: Bool
        switch failOn {
        case .escalation?: tripped = !diff.escalations.isEmpty
        case .anyChange?: tripped = diff.hasChanges
        case nil: tripped = false
        }
        switch format {
        case .human: Output.stdout(Self.human(diff))
        case .json: Output.stdout(Self.json(diff, tripped: tripped) + "\n")
        case .github: Output.stdout(Self.github(diff, gate: failOn, newPath: new))
        }
        if tripped {
            Output.stderr("scopegate: diff gate `\(failOn?.rawValue ?? "")` tripped\n")
            throw Exit.finding
        }
    }

    static func human(_ d: PolicyDiff) -> String {
        guard d.hasChanges else { return "no changes\n" }
        var out = ""
        if !d.rules.isEmpty {
            out += "rules:\n"
            for r in d.rules {
                switch r.kind {
                case .added: out += "  + \(r.name): \(r.new ?? "")\n"
                case .removed: out += "  - \(r.name): \(r.old ?? "")\n"
                case .changed:
                    out += "  ~ \(r.name)\n      old: \(r.old ?? "")\n      new: \(r.new ?? "")\n"
                    if r.oldCost != r.newCost {
                        out +=
                            "      least-privilege cost: \(r.oldCost.map(String.init) ?? "-") → \(r.newCost.map(String.init) ?? "-")\n"
                    }
                }
            }
        }
        if !d.scopeDefinitions.isEmpty {
            out += "scope definitions:\n" + d.scopeDefinitions.map { "  \($0)\n" }.joined()
        }
        if !d.clientProfiles.isEmpty { out += "client profiles:\n" + d.clientProfiles.map { "  \($0)\n" }.joined() }
        let escalated = Set(d.escalations.map { "\($0.subject)\u{0}\($0.rule)" })
        for (title, list) in [("reach per scope", d.scopes), ("reach per client", d.clients)] where !list.isEmpty {
            out += "\(title):\n"
            for c in list {
                if !c.gained.isEmpty {
                    out +=
                        "  \(c.subject) now reaches: "
                        + c.gained.map { escalated.contains("\(c.subject)\u{0}\($0)") ? "\($0) [escalation]" : $0 }
                        .joined(separator: ", ") + "\n"
                }
                if !c.lost.isEmpty {
                    out += "  \(c.subject) no longer reaches: " + c.lost.joined(separator: ", ") + "\n"
                }
            }
        }
        out += "\nescalations: \(d.escalations.count)\n"
        for e in d.escalations { out += "  ! \(e.message)\n" }
        return out
    }

    static func json(_ d: PolicyDiff, tripped: Bool) -> String {
        func opt(_ s: String?) -> String { s.map(JSONText.quote) ?? "null" }
        func optInt(_ i: Int?) -> String { i.map(String.init) ?? "null" }
        var out = "{\"v\":1,\"changed\":\(d.hasChanges),\"gate_tripped\":\(tripped),\"rules\":["
        out +=
            d.rules.map {
                "{\"name\":\(JSONText.quote($0.name)),\"change\":\(JSONText.quote($0.kind.rawValue)),\"old\":\(opt($0.old)),\"new\":\(opt($0.new)),"
                    + "\"old_cost\":\(optInt($0.oldCost)),\"new_cost\":\(optInt($0.newCost))}"
            }.joined(separator: ",") + "]"
        out += ",\"scope_definitions\":" + JSONText.array(d.scopeDefinitions)
        out += ",\"client_profiles\":" + JSONText.array(d.clientProfiles)
        func reach(_ list: [PolicyDiff.ReachChange]) -> String {
            "["
                + list.map {
                    "{\"subject\":\(JSONText.quote($0.subject)),\"gained\":\(JSONText.array($0.gained)),\"lost\":\(JSONText.array($0.lost))}"
                }
                .joined(separator: ",") + "]"
        }
        out += ",\"scopes\":" + reach(d.scopes) + ",\"clients\":" + reach(d.clients)
        out +=
            ",\"escalations\":["
            + d.escalations.map {
                "{\"kind\":\(JSONText.quote($0.kind)),\"subject\":\(JSONText.quote($0.subject)),\"rule\":\(JSONText.quote($0.rule)),"
                    + "\"message\":\(JSONText.quote($0.message)),\"location\":\(opt($0.location?.description))}"
            }.joined(separator: ",") + "]}"
        return out
    }

    /// GitHub workflow commands: escalations as errors when a gate is set (else warnings), other changes as notices.
    static func github(_ d: PolicyDiff, gate: Gate?, newPath: String) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
        }
        func place(_ l: SourceLocation?) -> String {
            guard let l else { return "file=\(newPath)" }
            return "file=\(l.file),line=\(l.line),col=\(l.column)"
        }
        var out = ""
        let level = gate == nil ? "warning" : "error"
        for e in d.escalations {
            out += "::\(level) \(place(e.location)),title=scopegate diff: privilege escalation::\(escape(e.message))\n"
        }
        let noticeLevel = gate == .anyChange ? "error" : "notice"
        for r in d.rules {
            let text: String
            switch r.kind {
            case .added: text = "added `\(r.name)`: \(r.new ?? "")"
            case .removed: text = "removed `\(r.name)` (was: \(r.old ?? ""))"
            case .changed: text = "`\(r.name)` changed: \(r.old ?? "") → \(r.new ?? "")"
            }
            out += "::\(noticeLevel) \(place(r.location)),title=scopegate diff::\(escape(text))\n"
        }
        for s in d.scopeDefinitions + d.clientProfiles {
            out += "::\(noticeLevel) file=\(newPath),title=scopegate diff::\(escape(s))\n"
        }
        out += "scopegate diff: \(d.rules.count) rule changes, \(d.escalations.count) escalations\n"
        return out
    }
}
