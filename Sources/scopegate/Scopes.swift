import ArgumentParser
import ScopeGate
import ScopeGateCommandLine

struct Scopes: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scopes",
        abstract: "Show the scope tree: descriptions, risk, what each scope implies and each wildcard covers.")

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: "Output format: human or json.")
    var format: HumanOrJSON = .human

    func run() throws {
        let policy = try policyOptions.load()
        let model = policy.model
        switch format {
        case .json:
            let items = model.scopes.map { scope -> String in
                let id = policy.scopes.id(scope.name)
                let closure = id.map { policy.names(policy.scopes.closure($0).ids).sorted() } ?? []
                var fields = [
                    "\"name\":\(JSONText.quote(scope.name))",
                    "\"description\":" + (scope.description.map(JSONText.quote) ?? "null"),
                    "\"risk\":\(JSONText.quote(scope.risk.rawValue))",
                    "\"wildcard\":\(scope.isWildcard)",
                    "\"implies\":" + JSONText.array(scope.implies),
                    "\"closure\":" + JSONText.array(closure),
                    "\"covers\":" + JSONText.array(scope.covers),
                    "\"closure_cost\":\(id.map { policy.scopes.cost(of: policy.scopes.closure($0)) } ?? 0)",
                    "\"location\":\(JSONText.quote(scope.location.description))",
                ]
                if let use = scope.deprecatedUse { fields.append("\"deprecated_use\":\(JSONText.quote(use))") }
                return "{" + fields.joined(separator: ",") + "}"
            }
            Output.stdout("{\"v\":1,\"scopes\":[" + items.joined(separator: ",") + "]}\n")
        case .human:
            Output.stdout(ScopeTree.render(policy))
        }
    }
}

/// Renders the implication hierarchy as an indented tree (roots: scopes nothing else implies).
enum ScopeTree {
    static func render(_ policy: CompiledPolicy) -> String {
        let model = policy.model
        var impliedBy: Set<String> = []
        for scope in model.scopes { impliedBy.formUnion(scope.implies) }
        var out = ""
        func line(_ scope: ScopeDefinition, _ depth: Int, _ path: Set<String>) {
            let pad = String(repeating: "  ", count: depth)
            var text = "\(pad)\(depth == 0 ? "" : "└─ ")\(scope.name)  [\(scope.risk.rawValue)]"
            if let d = scope.description { text += "  \(d)" }
            if let use = scope.deprecatedUse { text += "  (deprecated: use \(use))" }
            out += text + "\n"
            if scope.isWildcard {
                out +=
                    "\(pad)   covers: " + (scope.covers.isEmpty ? "(nothing)" : scope.covers.joined(separator: ", "))
                    + "\n"
            }
            for child in scope.implies where !path.contains(child) {
                if let def = model.scope(child) { line(def, depth + 1, path.union([child])) }
            }
        }
        for scope in model.scopes where !impliedBy.contains(scope.name) { line(scope, 0, [scope.name]) }
        out += "\n\(model.scopes.count) scopes, \(model.scopes.filter(\.isWildcard).count) wildcards\n"
        return out
    }
}
