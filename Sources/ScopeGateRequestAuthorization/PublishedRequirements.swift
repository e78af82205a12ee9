import Foundation
import ScopeGate

/// What a client needs to plan its token: a tool's requirement as published in `tools/list` under
/// `_meta["io.scopegate/requires"]`, and the opt-in public requirements document (`resource.publish_requirements`)
/// linked from the Protected Resource Metadata. The format is version 1 and documented in docs/records.md.
///
/// An entry holds the tool's clauses (OR of AND, scope names, alternatives kept), its actions' clauses, its `when`
/// extras with their argument conditions, and for every scope it names the risk weight the least-privilege solver
/// uses and which of the scopes named by the published entries it implies (the whole list's, so that the entries
/// merged give every implication a client may rely on). It never names a scope that no published entry names.
///
/// ```swift
/// let entry = PublishedRequirements.entry(for: "read_client", in: policy)
/// // {"v":1,"requires":[["mcp:data:client-info:read"]],"scopes":{"mcp:data:client-info:read":{"implies":[],"weight":4}}}
/// let document = PublishedRequirements.document(policy: policy)   // nil unless the policy opts in
/// ```
public enum PublishedRequirements {
    /// The `_meta` key of a `tools/list` entry.
    public static let metaKey = "io.scopegate/requires"
    /// The Protected Resource Metadata member that links the public requirements document.
    public static let metadataKey = "io.scopegate/requirements_uri"
    /// The well-known path of the public requirements document (the MCP endpoint's path is appended, as for RFC 9728).
    public static let wellKnownPath = "/.well-known/scopegate-requirements"
    /// The format version written in every entry and document.
    public static let version = 1

    /// The entry of the tool rule that governs calls of `name`, or nil when no rule does. `listed` are the scopes
    /// the other published entries name: implications among them are published too, so that a client that merges
    /// the entries of a list sees every implication between the scopes it may choose.
    public static func entry(for name: String, in policy: CompiledPolicy, listed: Set<String> = []) -> JSONValue? {
        guard let index = policy.toolRuleIndex(for: name) else { return nil }
        return entry(of: policy.model.tools[index], in: policy, listed: listed)
    }

    /// The entries of the tools `names` (those with a rule), each with the implications among all the scopes the
    /// entries name.
    public static func entries(for names: [String], in policy: CompiledPolicy) -> [String: JSONValue] {
        let rules = names.compactMap { name in policy.toolRuleIndex(for: name).map { (name, policy.model.tools[$0]) } }
        let listed = Set(rules.flatMap { namedScopes(of: $0.1) })
        var out: [String: JSONValue] = [:]
        for (name, rule) in rules { out[name] = entry(of: rule, in: policy, listed: listed) }
        return out
    }

    /// Every scope a rule's requirements name (its own, its actions', its `when` extras').
    static func namedScopes(of rule: ToolRule) -> [String] {
        var requirements = [rule.requirement] + rule.when.map(\.requirement)
        for action in rule.actions ?? [] { requirements += [action.requirement] + action.when.map(\.requirement) }
        return requirements.compactMap { $0 }.flatMap { $0.clauses.joined() }
    }

    /// The entry of one tool rule.
    public static func entry(of rule: ToolRule, in policy: CompiledPolicy, listed: Set<String> = []) -> JSONValue {
        var out: [String: JSONValue] = ["v": .number(Decimal(version))]
        func clauses(_ requirement: Requirement?) -> JSONValue? {
            guard let requirement, !requirement.clauses.isEmpty else { return nil }
            return .array(requirement.clauses.map { .array($0.map(JSONValue.string)) })
        }
        func whens(_ entries: [ConditionalRequirement]) -> JSONValue? {
            guard !entries.isEmpty else { return nil }
            return .array(
                entries.map { entry in
                    var object: [String: JSONValue] = ["arguments": conditions(entry.conditions)]
                    object["requires"] = clauses(entry.requirement)
                    return .object(object)
                })
        }
        if rule.isPublic { out["public"] = .bool(true) }
        out["requires"] = clauses(rule.requirement)
        out["when"] = whens(rule.when)
        if let actions = rule.actions {
            out["action_argument"] = .string(rule.actionArgument ?? "action")
            var byName: [String: JSONValue] = [:]
            for action in actions {
                var object: [String: JSONValue] = [:]
                object["requires"] = clauses(action.requirement)
                object["when"] = whens(action.when)
                byName[action.name] = .object(object)
            }
            out["actions"] = .object(byName)
        }
        let named = namedScopes(of: rule)
        out["scopes"] = scopes(named, among: listed.union(named), in: policy)
        return .object(out)
    }

    /// The public requirements document of `policy` (every tool rule, keyed by its name or glob), or nil when the
    /// policy does not set `resource.publish_requirements: true`.
    public static func document(policy: CompiledPolicy, resource: String? = nil) -> JSONValue? {
        guard policy.model.resource?.publishRequirements == true else { return nil }
        let tools = entries(for: policy.model.tools.map(\.pattern), in: policy)
        var out: [String: JSONValue] = ["v": .number(Decimal(version)), "tools": .object(tools)]
        if let id = resource ?? policy.model.resource?.id { out["resource"] = .string(id) }
        return .object(out)
    }

    /// Each named scope with its risk weight and the scopes of `among` in its closure (sorted).
    static func scopes(_ names: [String], among listed: Set<String>, in policy: CompiledPolicy) -> JSONValue {
        let table = policy.scopes
        let candidates = listed.compactMap { name in table.id(name).map { (name, $0) } }
        var out: [String: JSONValue] = [:]
        for name in Set(names) {
            let id = table.id(name)
            var implies: [String] = []
            if let id {
                let closure = table.closure(id)
                for (other, otherID) in candidates where other != name && closure.contains(otherID) {
                    implies.append(other)
                }
            }
            let weight = id.map { table.risk(of: $0).weight } ?? Risk.normal.weight
            out[name] = .object([
                "weight": .number(Decimal(weight)),
                "implies": .array(implies.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map(JSONValue.string)),
            ])
        }
        return .object(out)
    }

    /// `{argument: {matcher: value}}`, the policy's own spelling of a `when` entry's conditions.
    static func conditions(_ conditions: [ArgumentCondition]) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for condition in conditions {
            var matchers: [String: JSONValue] = [:]
            for matcher in condition.matchers {
                matchers[matcher.name] =
                    switch matcher {
                    case .equals(let value): value
                    case .in(let values), .notIn(let values): .array(values)
                    case .gt(let n), .gte(let n), .lt(let n), .lte(let n): .number(n)
                    case .prefix(let text), .glob(let text): .string(text)
                    case .exists(let flag): .bool(flag)
                    }
            }
            out[condition.argument] = .object(matchers)
        }
        return .object(out)
    }
}
