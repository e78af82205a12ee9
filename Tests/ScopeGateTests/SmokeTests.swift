import Testing

@testable import ScopeGate

@Test func locationOrdering() {
    #expect(SourceLocation(file: "a", line: 1, column: 2) < SourceLocation(file: "a", line: 2, column: 1))
}
