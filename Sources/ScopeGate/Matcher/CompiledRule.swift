// A rule lowered for matching: its requirement, conditions and actions as clause ranges.

/// One matcher of a `when` entry's conditions, with its argument. An entry's conditions are flattened into one
/// array of these, in order, so testing an entry reads that array and not one array per condition and two per
/// matcher list (on a large policy each is a likely cache miss).
struct ConditionTest: Sendable {
    let argument: String
    let matcher: ArgumentMatcher
    /// The compiled pattern of a `glob:` matcher.
    let glob: Glob?
    /// Whether this test's argument is the previous test's (same condition): its value is looked up once.
    let sameArgument: Bool
}

struct CompiledWhen: Sendable {
    let tests: [ConditionTest]
    let requirement: ClauseRange
    let location: SourceLocation
}

struct CompiledAction: Sendable {
    let name: String
    let requirement: ClauseRange
    let when: [CompiledWhen]
}

/// A final class: a decision touches one rule, and passing it costs one reference count instead of one per field.
/// Actions, which most rules lack, live in a separate object: a rule is then 77 bytes (a 96-byte allocation)
/// instead of 112 (128), a third of a megabyte at 10,000 tools. Conditions stay inline: boxing them too would
/// cost a retain of the box on every decision of a rule with conditions.
final class CompiledRule: Sendable {
    let location: SourceLocation
    let requirement: ClauseRange
    let when: [CompiledWhen]
    /// Actions; nil for a rule without (decisions test this once).
    let extras: Extras?
    /// Index into the model's `tools`, `resources`, `prompts` or `methods` (a policy has far fewer than 2³¹ rules).
    private let index: Int32
    let isPublic: Bool

    final class Extras: Sendable {
        let actionArgument: String?
        let actions: [String: Int]
        let actionList: [CompiledAction]

        init(actionArgument: String?, actions: [String: Int], actionList: [CompiledAction]) {
            self.actionArgument = actionArgument
            self.actions = actions
            self.actionList = actionList
        }

        /// The index of the declared action `name` (the last of equal names, as `actions` holds them).
        @inline(__always)
        func action(named name: String) -> Int? { actions.value(named: name) }
    }

    var modelIndex: Int { Int(index) }
    var actionArgument: String? { extras?.actionArgument }
    var actions: [String: Int] { extras?.actions ?? [:] }
    var actionList: [CompiledAction] { extras?.actionList ?? [] }
    var hasActions: Bool { actionArgument != nil }

    init(
        modelIndex: Int, location: SourceLocation, isPublic: Bool, requirement: ClauseRange, actionArgument: String?,
        actions: [String: Int], actionList: [CompiledAction], when: [CompiledWhen]
    ) {
        self.index = Int32(truncatingIfNeeded: modelIndex)
        self.location = location
        self.isPublic = isPublic
        self.requirement = requirement
        self.when = when
        if actionArgument == nil, actions.isEmpty, actionList.isEmpty {
            self.extras = nil
        } else {
            self.extras = Extras(actionArgument: actionArgument, actions: actions, actionList: actionList)
        }
    }
}
