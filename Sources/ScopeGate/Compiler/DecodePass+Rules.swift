import Foundation

// Decoding of `tools` (with actions and `downstream`) and of `methods`, `resources` and `prompts`.
extension DecodePass {
    mutating func decodeTools(_ node: YAMLNode) -> [ToolRule] {
        guard let entries = entries(node, what: "`tools`") else { return [] }
        var out: [ToolRule] = []
        out.reserveCapacity(entries.count)  // grown by doubling, a 10,000-tool array would peak at 1.6× its size
        for (keyNode, value) in entries.mapping {
            guard let name = Self.entryKey(keyNode) else { continue }
            var rule = ToolRule(
                pattern: name, location: keyNode.location, description: nil, isPublic: false, basic: false,
                requirement: nil, actionArgument: nil, actions: nil, when: [], downstream: nil)
            if !value.isMapping {
                if value.isNull {
                    error(
                        .noRequirement, "tool `\(name)` has no requirement", keyNode.location,
                        help: "add `requires: <scope>`, or `public: true` if any valid token may call it")
                    continue
                }
                rule.requirement = requirement(value, what: "the requirement of tool `\(name)`")
                if rule.requirement != nil { out.append(rule) }
                continue
            }
            if let mapping = value.mapping, !mapping.isEmpty,
                mapping.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" })
            {
                rule.requirement = requirement(value, what: "the requirement of tool `\(name)`")
                if rule.requirement != nil { out.append(rule) }
                continue
            }
            var actionNode: YAMLNode?
            for (key, _, v) in pairs(value, what: "tool `\(name)`", allowed: Self.toolKeys) ?? [] {
                switch key {
                case "requires": rule.requirement = requirement(v, what: "`requires`")
                case "description": rule.description = string(v, what: "`description`")
                case "public": rule.isPublic = bool(v, what: "`public`") ?? false
                case "basic": rule.basic = bool(v, what: "`basic`") ?? false
                case "action_argument": rule.actionArgument = string(v, what: "`action_argument`")
                case "actions": actionNode = v
                case "when": rule.when = whenList(v, what: "`when`")
                case "downstream": rule.downstream = decodeDownstream(v)
                case "mode": rule.mode = mode(v, what: "the `mode` of tool `\(name)`")
                default: break
                }
            }
            if let actionNode {
                rule.actions = decodeActions(actionNode, tool: name)
                if rule.actionArgument == nil { rule.actionArgument = "action" }
            } else if rule.actionArgument != nil {
                error(
                    .unsatisfiableRequirement, "tool `\(name)` has `action_argument` but no `actions`",
                    keyNode.location,
                    help: "add `actions:` naming each action and its requirement, or remove `action_argument`",
                    notes: [])
            }
            out.append(rule)
        }
        return out
    }

    mutating func decodeActions(_ node: YAMLNode, tool: String) -> [ActionRule] {
        var out: [ActionRule] = []
        for (name, keyNode, value) in pairs(node, what: "the actions of `\(tool)`", allowed: nil) ?? [] {
            var action = ActionRule(
                name: name, location: keyNode.location, description: nil, requirement: nil, when: [])
            if value.isNull {
                out.append(action)
                continue
            }
            if !value.isMapping
                || value.mapping?.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" }) == true
            {
                action.requirement = requirement(value, what: "the requirement of action `\(name)`")
                if action.requirement != nil { out.append(action) }
                continue
            }
            for (key, _, v) in pairs(value, what: "action `\(name)`", allowed: Self.actionKeys) ?? [] {
                switch key {
                case "requires": action.requirement = requirement(v, what: "`requires`")
                case "description": action.description = string(v, what: "`description`")
                case "when": action.when = whenList(v, what: "`when`")
                default: break
                }
            }
            out.append(action)
        }
        return out
    }

    mutating func decodeDownstream(_ node: YAMLNode) -> DownstreamExchange? {
        guard let items = pairs(node, what: "`downstream`", allowed: Self.downstreamKeys) else { return nil }
        var result = DownstreamExchange(audience: "", scopes: [], issuer: nil, location: node.location)
        for (key, _, value) in items {
            switch key {
            case "audience": result.audience = string(value, what: "`downstream.audience`") ?? ""
            case "scopes": result.scopes = (strings(value, what: "`downstream.scopes`") ?? []).map(\.0)
            case "issuer": result.issuer = string(value, what: "`downstream.issuer`")
            default: break
            }
        }
        if result.audience.isEmpty {
            error(
                .missingKey, "`downstream` needs `audience`", node.location,
                help: "name the downstream API's resource URI, e.g. `audience: https://api.example.com`")
            return nil
        }
        return result
    }

    // MARK: methods, resources, prompts

    mutating func decodePatternRules(_ node: YAMLNode, section: String) -> [PatternRule] {
        var out: [PatternRule] = []
        for (name, keyNode, value) in pairs(node, what: "`\(section)`", allowed: nil) ?? [] {
            var rule = PatternRule(pattern: name, location: keyNode.location, isPublic: false, requirement: nil)
            if value.isMapping, value.mapping?.allSatisfy({ $0.key.string == "all" || $0.key.string == "any" }) == false
            {
                for (key, _, v) in pairs(value, what: "`\(section).\(name)`", allowed: Self.ruleKeys) ?? [] {
                    if key == "requires" { rule.requirement = requirement(v, what: "`requires`") }
                    if key == "public" { rule.isPublic = bool(v, what: "`public`") ?? false }
                }
            } else if !value.isNull {
                rule.requirement = requirement(value, what: "the requirement of `\(name)`")
            }
            if rule.requirement == nil && !rule.isPublic {
                if value.isNull
                    || value.isMapping && !(value.mapping?.contains { $0.key.string == "requires" } ?? false)
                {
                    error(
                        .noRequirement, "`\(section).\(name)` has no requirement", keyNode.location,
                        help: "give it a scope, or `{public: true}` if any valid token may use it")
                }
                continue
            }
            out.append(rule)
        }
        return out
    }
}
