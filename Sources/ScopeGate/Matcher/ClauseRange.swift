/// A requirement lowered to clause indices `[lower, upper)` in ``CompiledPolicy/clauseBounds``.
/// `lower == upper` means "no requirement".
///
/// Most requirements are one scope (`requires: repo:read`). For those the range also holds that scope's id, so
/// testing the requirement reads the grant's closure and nothing else of the policy: a decision on a large
/// policy otherwise reads the clause's bounds and ids from two arrays far from the rule, each a likely cache miss.
struct ClauseRange: Sendable {
    var lower: Int32
    var upper: Int32
    /// The id + 1 of the one scope of a requirement that is one clause of one defined scope; 0 otherwise.
    var singleScopePlusOne: UInt32 = 0
    var isEmpty: Bool { lower == upper }
    static let none = ClauseRange(lower: 0, upper: 0)
}
