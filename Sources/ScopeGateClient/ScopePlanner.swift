import Foundation
import ScopeGate

/// The scopes to ask for, and how they were chosen.
///
/// ```swift
/// let plan = try ScopePlanner.plan(tools: ["get_forecast", "read_client"], published: requirements)
/// print(plan.scopes.joined(separator: " "), plan.source)   // "mcp:data:client-info:read mcp:tools:climate published"
/// ```
public struct ScopePlan: Sendable, Hashable {
    /// Where the scopes came from.
    public enum Source: String, Sendable, Hashable {
        /// The least set for the named tools, from the requirements the resource publishes.
        case published
        /// Every scope in the resource's `scopes_supported`: it publishes no requirements.
        case scopesSupported = "scopes_supported"
        /// Named by the caller (`--scopes`).
        case explicit
        /// A step-up: what was held plus what a 403 challenge asked for.
        case stepUp = "step_up"
    }

    /// The scopes, sorted (UTF-8 order).
    public var scopes: [String]
    public var source: Source
    /// For `published`: whether the solver proved the set optimal.
    public var optimal: Bool
    /// What a reader should know: the fallback taken, extra scopes some arguments would need.
    public var notes: [String]

    public init(scopes: [String], source: Source, optimal: Bool = true, notes: [String] = []) {
        self.scopes = scopes.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.source = source
        self.optimal = optimal
        self.notes = notes
    }
}

/// Plans the least scope set for the tools a client means to call, from the requirements a ScopeGate front
/// publishes (`_meta["io.scopegate/requires"]` of `tools/list`, or the public requirements document), with the
/// core's least-privilege solver: the published clauses, weights and implications become a small policy, which the
/// solver answers exactly as `scopegate minimal` does. `when` extras (they depend on a call's arguments) are left
/// out of the set and named in the notes; a call that needs one gets a 403 and steps up.
///
/// ```swift
/// let published = ScopePlanner.requirements(fromToolsList: result)      // name → entry
/// let plan = try ScopePlanner.plan(tools: ["read_client"], published: published, scopesSupported: prm.scopesSupported)
/// ```
public enum ScopePlanner {
    /// The published entries of a `tools/list` result (`{"tools": [...]}`), by tool name.
    public static func requirements(fromToolsList result: JSONValue) -> [String: JSONValue] {
        guard case .array(let tools)? = result[member: "tools"] else { return [:] }
        var out: [String: JSONValue] = [:]
        for tool in tools {
            if let name = tool[member: "name"]?.string,
                let entry = tool[member: "_meta"]?[member: "io.scopegate/requires"]
            {
                out[name] = entry
            }
        }
        return out
    }

    /// The entries of a public requirements document (`{"v":1,"tools":{name or glob: entry}}`).
    public static func requirements(fromDocument document: JSONValue) -> [String: JSONValue] {
        guard case .object(let tools)? = document[member: "tools"] else { return [:] }
        return tools
    }

    /// The least set for `tools`. With no published requirements at all, every scope of `scopesSupported`, with a
    /// note saying so. A named tool that the requirements do not cover is `client-unknown-tool`.
    public static func plan(
        tools: [String], published: [String: JSONValue], scopesSupported: [String] = []
    ) throws(ClientError) -> ScopePlan {
        guard !published.isEmpty else {
            return ScopePlan(
                scopes: scopesSupported, source: .scopesSupported,
                notes: [
                    "the resource publishes no requirements; asking for its `scopes_supported`"
                        + (scopesSupported.isEmpty ? " (empty: the server chooses)" : "")
                ])
        }
        let source = policySource(published)
        let policy: CompiledPolicy
        do {
            policy = try PolicyCompiler(options: LoadOptions(environment: [:])).compile(
                source: source, name: "<published requirements>"
            ).compiled()
        } catch {
            throw ClientError(.badDocument, "the published requirements do not form a valid policy: \(error)")
        }
        let result: LeastPrivilegeResult
        do {
            result = try LeastPrivilegeSolver(policy: policy).minimal(for: tools.map { ToolSelection(tool: $0) })
        } catch {
            throw ClientError(.unknownTool, error.message + " (not among the tools the resource lists to this client)")
        }
        var notes: [String] = []
        for tool in tools {
            guard
                let entry = published[tool]
                    ?? published.first(where: { $0.key.contains("*") && Glob($0.key).matches(tool) })?.value
            else { continue }
            notes += conditionalNotes(tool, entry)
        }
        return ScopePlan(scopes: result.scopes, source: .published, optimal: result.optimal, notes: notes)
    }

    /// The policy (JSON, which the YAML loader reads) equivalent to the published entries for the solver.
    static func policySource(_ published: [String: JSONValue]) -> String {
        var weights: [String: Int] = [:]
        var implies: [String: Set<String>] = [:]
        var tools: [String: JSONValue] = [:]
        for (name, entry) in published {
            if case .object(let table)? = entry[member: "scopes"] {
                for (scope, info) in table {
                    weights[scope] = max(weights[scope] ?? 0, info[member: "weight"]?.int ?? Risk.normal.weight)
                    implies[scope, default: []].formUnion(info[member: "implies"]?.strings ?? [])
                }
            }
            tools[name] = tool(entry)
        }
        // Entries of one list may each know part of a scope's implications: they are merged. An implied scope no
        // entry describes is declared with the default weight, so that the policy stays valid.
        for implied in implies.values.joined() where weights[implied] == nil { weights[implied] = Risk.normal.weight }
        var scopes: [String: JSONValue] = [:]
        for (scope, weight) in weights {
            var declared: [String: JSONValue] = ["risk": .string(risk(weight: weight))]
            let implied = (implies[scope] ?? []).subtracting([scope]).sorted()
            if !implied.isEmpty { declared["implies"] = .array(implied.map(JSONValue.string)) }
            scopes[scope] = .object(declared)
        }
        return JSONValue.object(["version": .number(1), "scopes": .object(scopes), "tools": .object(tools)]).jsonText
    }

    /// One tool rule from an entry: `public`, `requires`, `action_argument` and `actions` (`when` is left out).
    static func tool(_ entry: JSONValue) -> JSONValue {
        if entry[member: "public"] == .bool(true) { return .object(["public": .bool(true)]) }
        var rule: [String: JSONValue] = [:]
        if let requires = requirement(entry[member: "requires"]) { rule["requires"] = requires }
        if case .object(let actions)? = entry[member: "actions"] {
            rule["action_argument"] = entry[member: "action_argument"] ?? .string("action")
            rule["actions"] = .object(actions.mapValues { requirement($0[member: "requires"]) ?? .null })
        }
        // A tool that publishes nothing to require is callable by any token.
        if rule.isEmpty { return .object(["public": .bool(true)]) }
        return .object(rule)
    }

    /// `{any: [{all: [...]}, ...]}` of published clauses.
    static func requirement(_ clauses: JSONValue?) -> JSONValue? {
        guard case .array(let list)? = clauses, !list.isEmpty else { return nil }
        return .object(["any": .array(list.map { .object(["all": $0]) })])
    }

    /// The risk class whose weight is the smallest not below `weight` (1 low, 2 normal, 4 sensitive, 16 admin).
    static func risk(weight: Int) -> String {
        return (Risk.allCases.first { $0.weight >= weight } ?? .admin).rawValue
    }

    /// "`tool` also needs … when …" for each `when` entry of a tool and its actions.
    static func conditionalNotes(_ tool: String, _ entry: JSONValue) -> [String] {
        var notes: [String] = []
        func add(_ label: String, _ whens: JSONValue?) {
            guard case .array(let list)? = whens else { return }
            for item in list {
                let clauses =
                    (item[member: "requires"].flatMap { v -> [String]? in
                        guard case .array(let cs) = v else { return nil }
                        return cs.map { ($0.strings ?? []).joined(separator: " + ") }
                    } ?? []).joined(separator: " or ")
                notes.append(
                    "`\(label)` also needs \(clauses) when its arguments match "
                        + (item[member: "arguments"]?.jsonText ?? "{}")
                        + " (not included; step up if you make such a call)")
            }
        }
        add(tool, entry[member: "when"])
        if case .object(let actions)? = entry[member: "actions"] {
            for name in actions.keys.sorted() { add("\(tool).\(name)", actions[name]?[member: "when"]) }
        }
        return notes
    }
}
