import Foundation
import ScopeGate

/// The type a policy condition needs of an argument, which decides how a header's text is read.
///
/// ```swift
/// for tool in HeaderArgumentTypes.arguments(of: policy) {
///     for argument in tool.arguments where argument.type == .number { print(tool.tool, argument.name) }  // spend amount
/// }
/// ```
public enum ArgumentType: String, Sendable, Hashable {
    /// Read as-is.
    case string
    /// Read as a JSON number (`42`, `-7`, `2.5`).
    case number
    /// `true` or `false`.
    case boolean
    /// Only presence matters (`exists:`), or literals of mixed types: read as a string.
    case any
}

/// An argument a tool rule decides on, with where the policy reads it.
///
/// ```swift
/// for argument in tool.arguments { print(argument.name, argument.type, argument.usedBy) }   // amount number ["when"]
/// ```
public struct PolicyArgument: Sendable, Hashable {
    /// The argument name (top level of `arguments`).
    public var name: String
    /// How a header value for it is read.
    public var type: ArgumentType
    /// `action` (it selects the action) or `when` (a condition reads it), with the action's name for the
    /// `when:` of an action: `when (action delete)`.
    public var usedBy: [String]
}

/// The arguments each tool rule of a policy decides on, in rule order. For a gateway deciding from headers
/// alone, these are the parameters the server's authors should mark with `x-mcp-header`.
///
/// ```swift
/// for tool in HeaderArgumentTypes.arguments(of: policy) {
///     print(tool.tool, tool.arguments.map(\.name))
/// }
/// ```
public enum HeaderArgumentTypes {
    /// One tool rule and its arguments.
    public struct Tool: Sendable, Hashable {
        /// The rule's pattern (an exact name or a glob).
        public var tool: String
        public var arguments: [PolicyArgument]
    }

    /// Every tool rule that reads at least one argument.
    public static func arguments(of policy: CompiledPolicy) -> [Tool] {
        policy.model.tools.indices.compactMap { index in
            let arguments = arguments(ofRule: index, policy: policy, action: nil, allActions: true)
            return arguments.isEmpty ? nil : Tool(tool: policy.model.tools[index].pattern, arguments: arguments)
        }
    }

    /// The arguments rule `index` reads: the action argument, the rule's `when:` arguments, and the `when:`
    /// arguments of `action` (of every action when `allActions`).
    static func arguments(ofRule index: Int, policy: CompiledPolicy, action: String?, allActions: Bool)
        -> [PolicyArgument]
    {
        var out: [PolicyArgument] = []
        forEachUse(ofRule: index, policy: policy, action: action, allActions: allActions) { name, type, use in
            let use = use()
            if let i = out.firstIndex(where: { $0.name == name }) {
                if !out[i].usedBy.contains(use) { out[i].usedBy.append(use) }
                out[i].type = merge(out[i].type, type)
            } else {
                out.append(PolicyArgument(name: name, type: type, usedBy: [use]))
            }
        }
        return out
    }

    /// The type `name` is read as for rule `index` and `action`: the merge of what each of its uses needs.
    static func type(
        ofArgument name: String, rule index: Int, policy: CompiledPolicy, action: String?
    ) -> ArgumentType {
        var merged: ArgumentType?
        forEachUse(ofRule: index, policy: policy, action: action, allActions: false) { used, type, _ in
            if used == name { merged = merged.map { merge($0, type) } ?? type }
        }
        return merged ?? .any
    }

    /// Visits each use of an argument by rule `index`, in the order ``arguments(ofRule:policy:action:allActions:)``
    /// lists them: the argument's name, the type that use needs, and where it is used (made only when asked, so a
    /// decision pays for no text). Allocates nothing itself, which keeps it on a header-only decision's path.
    static func forEachUse<E: Error>(
        ofRule index: Int, policy: CompiledPolicy, action: String?, allActions: Bool,
        _ visit: (_ name: String, _ type: ArgumentType, _ use: () -> String) throws(E) -> Void
    ) throws(E) {
        let rule = policy.model.tools[index]
        if let argument = rule.actionArgument, rule.actions != nil { try visit(argument, .string, { "action" }) }
        for when in rule.when {
            for condition in when.conditions { try visit(condition.argument, type(of: condition), { "when" }) }
        }
        for entry in rule.actions ?? [] where allActions || entry.name == action {
            for when in entry.when {
                for condition in when.conditions {
                    try visit(condition.argument, type(of: condition), { "when (action \(entry.name))" })
                }
            }
        }
    }

    /// The type a condition's matchers need.
    static func type(of condition: ArgumentCondition) -> ArgumentType {
        var type: ArgumentType?
        for matcher in condition.matchers {
            let needed: ArgumentType?
            switch matcher {
            case .equals(let literal): needed = literalType(literal)
            case .in(let list), .notIn(let list): needed = list.first.map(literalType)
            case .gt, .gte, .lt, .lte: needed = .number
            case .prefix, .glob: needed = .string
            case .exists: needed = nil
            }
            if let needed { type = type.map { merge($0, needed) } ?? needed }
        }
        return type ?? .any
    }

    static func literalType(_ value: JSONValue) -> ArgumentType {
        switch value {
        case .string: .string
        case .number: .number
        case .bool: .boolean
        default: .any
        }
    }

    static func merge(_ a: ArgumentType, _ b: ArgumentType) -> ArgumentType {
        a == b ? a : (a == .any ? b : (b == .any ? a : .any))
    }

    /// The argument value a header's text stands for: a number or boolean when the policy needs one and the
    /// text is one; otherwise the text as a string, which a numeric or boolean condition counts as a
    /// wrong-typed argument (matched: fail closed).
    static func value(_ text: String, as type: ArgumentType) -> JSONValue {
        switch type {
        case .number: number(text).map(JSONValue.number) ?? .string(text)
        case .boolean: text == "true" ? .bool(true) : (text == "false" ? .bool(false) : .string(text))
        case .string, .any: .string(text)
        }
    }

    /// A header text read as a JSON number with the core's parser; nil when it is not exactly one number.
    static func number(_ text: String) -> Decimal? {
        guard text.utf8.count <= 64, case .number(let n)? = try? JSONParser(maxDepth: 1).parse(text) else {
            return nil
        }
        return n
    }
}
