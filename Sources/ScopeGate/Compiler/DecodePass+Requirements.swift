import Foundation

// Decoding of requirements (`all`/`any` expressions) and `when` conditions.
extension DecodePass {
    mutating func requirement(_ node: YAMLNode, what: @autoclosure () -> String) -> Requirement? {
        guard let expression = expression(node, what: what()) else { return nil }
        return Requirement(expression: expression, clauses: [])
    }

    mutating func expression(_ node: YAMLNode, what: @autoclosure () -> String) -> RequirementExpression? {
        if let s = node.string, !node.isMapping, !node.isSequence { return .scope(s, node.location) }
        if node.isSequence {
            wrongType(
                node, expected: "a scope or `{all: […]}` / `{any: […]}`", what: what(),
                help: "a bare list is ambiguous: write `{all: […]}` (every scope) or `{any: […]}` (one of them)")
            return nil
        }
        guard let items = pairs(node, what: what(), allowed: ["all", "any"]) else { return nil }
        guard items.count == 1, let (key, keyNode, value) = items.first else {
            if items.isEmpty, node.mapping?.isEmpty == false { return nil }  // unknown key already reported
            error(
                .wrongType, "\(what()) must have exactly one of `all` or `any`", node.location,
                help: "nest them: `{all: [a, {any: [b, c]}]}`")
            return nil
        }
        guard let list = value.sequence else {
            wrongType(value, expected: "a list", what: "`\(key)`")
            return nil
        }
        if list.isEmpty {
            error(
                .emptyAlternatives, "`\(key): []` is empty", keyNode.location,
                help: key == "any"
                    ? "an empty `any` can never be satisfied; list at least one scope"
                    : "an empty `all` requires nothing; remove it or use `public: true`")
            return nil
        }
        let children = list.compactMap { expression($0, what: "an entry of `\(key)`") }
        guard children.count == list.count else { return nil }
        return key == "all" ? .all(children, keyNode.location) : .any(children, keyNode.location)
    }

    // MARK: conditions

    mutating func conditions(_ node: YAMLNode) -> [ArgumentCondition] {
        var out: [ArgumentCondition] = []
        for (name, keyNode, value) in pairs(node, what: "`arguments`", allowed: nil) ?? [] {
            var matchers: [ArgumentMatcher] = []
            if let mapping = value.mapping, !mapping.isEmpty {
                for (op, _, v) in pairs(value, what: "the matcher of `\(name)`", allowed: Self.matcherKeys) ?? [] {
                    if let m = matcher(op, v) { matchers.append(m) }
                }
            } else if value.isSequence {
                wrongType(
                    value, expected: "a literal or a matcher mapping", what: "the condition on `\(name)`",
                    help: "to match one of several values write `{in: […]}`")
            } else {
                matchers.append(.equals(value.jsonValue))
            }
            if !matchers.isEmpty {
                out.append(ArgumentCondition(argument: name, matchers: matchers, location: keyNode.location))
            }
        }
        return out
    }

    mutating func matcher(_ op: String, _ v: YAMLNode) -> ArgumentMatcher? {
        func literal(_ node: YAMLNode) -> JSONValue? {
            if node.isMapping || node.isSequence {
                error(
                    .invalidCondition, "`\(op)` compares with a scalar literal, found \(node.typeName)", node.location,
                    help: "use a string, number, boolean or null")
                return nil
            }
            return node.jsonValue
        }
        func literals(_ node: YAMLNode) -> [JSONValue]? {
            guard let items = node.sequence else {
                error(
                    .invalidCondition, "`\(op)` takes a list of literals, found \(node.typeName)", node.location,
                    help: "write `\(op): [a, b]`")
                return nil
            }
            let values = items.compactMap(literal)
            guard values.count == items.count else { return nil }
            if Set(values.map(\.typeName)).count > 1 {
                error(
                    .invalidCondition,
                    "`\(op)` mixes types (\(Set(values.map(\.typeName)).sorted().joined(separator: ", ")))",
                    node.location, help: "types compare strictly; quote numbers that are meant as strings")
                return nil
            }
            return values
        }
        func number(_ node: YAMLNode) -> Decimal? {
            guard let n = node.numberValue else {
                error(
                    .invalidCondition, "`\(op)` compares numbers, found \(node.typeName)", node.location,
                    help: "write an unquoted number, e.g. `\(op): 1000`")
                return nil
            }
            return n
        }
        func text(_ node: YAMLNode) -> String? {
            guard !node.isMapping, !node.isSequence, !node.isNull, let s = node.string else {
                error(
                    .invalidCondition, "`\(op)` takes a string, found \(node.typeName)", node.location,
                    help: "write a string, e.g. `\(op): \"/tmp/\"`")
                return nil
            }
            return s
        }
        switch op {
        case "equals": return literal(v).map { .equals($0) }
        case "in": return literals(v).map { .in($0) }
        case "not_in": return literals(v).map { .notIn($0) }
        case "gt": return number(v).map { .gt($0) }
        case "gte": return number(v).map { .gte($0) }
        case "lt": return number(v).map { .lt($0) }
        case "lte": return number(v).map { .lte($0) }
        case "prefix": return text(v).map { .prefix($0) }
        case "glob": return text(v).map { .glob($0) }
        case "exists":
            guard let b = v.boolValue else {
                error(
                    .invalidCondition, "`exists` takes `true` or `false`, found \(v.typeName)", v.location,
                    help: "write `exists: true` or `exists: false`")
                return nil
            }
            return .exists(b)
        default: return nil
        }
    }

    mutating func whenList(_ node: YAMLNode, what: @autoclosure () -> String) -> [ConditionalRequirement] {
        guard let items = node.sequence else {
            wrongType(node, expected: "a list of `{arguments, requires}` entries", what: what())
            return []
        }
        var out: [ConditionalRequirement] = []
        for item in items {
            var conds: [ArgumentCondition] = []
            var req: Requirement?
            var sawArguments = false
            for (key, _, value) in pairs(item, what: "a `when` entry", allowed: Self.whenKeys) ?? [] {
                if key == "arguments" {
                    conds = conditions(value)
                    sawArguments = true
                }
                if key == "requires" { req = requirement(value, what: "`requires`") }
            }
            guard item.isMapping else { continue }
            if !sawArguments {
                error(
                    .missingKey, "a `when` entry needs `arguments`", item.location,
                    help:
                        "add `arguments: { name: matcher }`; for an unconditional requirement use the tool's `requires`"
                )
                continue
            }
            guard let req else {
                if item.mapping?.contains(where: { $0.key.string == "requires" }) == false {
                    error(
                        .missingKey, "a `when` entry needs `requires`", item.location,
                        help: "add the scopes required when the arguments match")
                }
                continue
            }
            if !conds.isEmpty {
                out.append(ConditionalRequirement(conditions: conds, requirement: req, location: item.location))
            }
        }
        return out
    }
}
