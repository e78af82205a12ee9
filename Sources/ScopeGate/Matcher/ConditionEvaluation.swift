/// Evaluation of one argument matcher.
enum ConditionEvaluation {
    enum Outcome {
        case matched
        case notMatched
        case wrongType(String)
    }

    static func sameType(_ a: JSONValue, _ b: JSONValue) -> Bool { a.typeName == b.typeName }

    static func evaluate(_ matcher: ArgumentMatcher, glob: Glob?, _ value: JSONValue?) -> Outcome {
        if case .exists(let expected) = matcher { return (value != nil) == expected ? .matched : .notMatched }
        guard let value else { return .notMatched }
        switch matcher {
        case .equals(let literal):
            guard sameType(literal, value) else { return .wrongType(value.typeName) }
            if case .number(let a) = literal, case .number(let b) = value {
                return DecimalCompare.compare(a, b) == 0 ? .matched : .notMatched
            }
            return literal == value ? .matched : .notMatched
        case .in(let list), .notIn(let list):
            if let first = list.first, !sameType(first, value) { return .wrongType(value.typeName) }
            let contained = list.contains(value)
            if case .in = matcher { return contained ? .matched : .notMatched }
            return contained ? .notMatched : .matched
        case .gt(let bound), .gte(let bound), .lt(let bound), .lte(let bound):
            guard case .number(let n) = value else { return .wrongType(value.typeName) }
            let ok: Bool
            let order = DecimalCompare.compare(n, bound)
            switch matcher {
            case .gt: ok = order > 0
            case .gte: ok = order >= 0
            case .lt: ok = order < 0
            default: ok = order <= 0
            }
            return ok ? .matched : .notMatched
        case .prefix(let prefix):
            guard case .string(let s) = value else { return .wrongType(value.typeName) }
            return s.hasPrefix(prefix) ? .matched : .notMatched
        case .glob(let pattern):
            guard case .string(let s) = value else { return .wrongType(value.typeName) }
            return (glob ?? Glob(pattern)).matches(s) ? .matched : .notMatched
        case .exists:
            return .matched
        }
    }
}

extension ConditionEvaluation {
    /// Whether every matcher of one condition on `argument` matches `arguments`. A present argument of the wrong
    /// type counts as matched (fail closed) and adds a note; an absent one matches only `exists: false`.
    static func matches(
        _ argument: String, _ matchers: [ArgumentMatcher], in arguments: [String: JSONValue], notes: inout [String]
    ) -> Bool {
        let value = arguments.value(named: argument)
        for matcher in matchers where !passes(matcher, glob: nil, argument, value, notes: &notes) { return false }
        return true
    }

    /// One matcher's verdict on `value`, the value of `argument` (nil when absent): false only when it does not
    /// match; a wrong type counts as matched and adds a note.
    @inline(__always)
    static func passes(
        _ matcher: ArgumentMatcher, glob: Glob?, _ argument: String, _ value: JSONValue?, notes: inout [String]
    ) -> Bool {
        switch evaluate(matcher, glob: glob, value) {
        case .matched: return true
        case .notMatched: return false
        case .wrongType(let found):
            notes.append(
                "argument `\(argument)` is \(found) where `\(matcher.name)` expects another type; counted as matched (fail closed)"
            )
            return true
        }
    }
}

extension CompiledWhen {
    /// Whether every condition matches `arguments` (see ``ConditionEvaluation/matches(_:_:in:notes:)``), matcher by
    /// matcher in order; each condition's argument is looked up once.
    /// The tests are read in place, not copied out of their array (each copy would retain and release the
    /// argument's name, the matcher's operand and the glob).
    func matches(_ arguments: [String: JSONValue], notes: inout [String]) -> Bool {
        tests.withUnsafeBufferPointer { tests in
            var value: JSONValue?
            for i in tests.indices {
                if !tests[i].sameArgument { value = arguments.value(named: tests[i].argument) }
                if !ConditionEvaluation.passes(
                    tests[i].matcher, glob: tests[i].glob, tests[i].argument, value, notes: &notes)
                {
                    return false
                }
            }
            return true
        }
    }
}

extension ConditionalRequirement {
    /// Whether every condition matches `arguments`, with the semantics of decisions: a present argument of the
    /// wrong type counts as matched and adds a note; an absent one matches only `exists: false`.
    ///
    /// ```swift
    /// var notes: [String] = []
    /// let applies = rule.when[0].matches(["path": .string("/etc/passwd")], notes: &notes)
    /// ```
    public func matches(_ arguments: [String: JSONValue], notes: inout [String]) -> Bool {
        for c in conditions
        where !ConditionEvaluation.matches(c.argument, c.matchers, in: arguments, notes: &notes) {
            return false
        }
        return true
    }
}
