/// A requirement lowered to clause indices `[lower, upper)` in ``CompiledPolicy/clauseBounds``.
/// `lower == upper` means "no requirement".
struct ClauseRange: Sendable {
    var lower: Int32
    var upper: Int32
    var isEmpty: Bool { lower == upper }
    static let none = ClauseRange(lower: 0, upper: 0)
}
