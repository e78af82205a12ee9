/// A position in a policy file: 1-based line and column (columns count Unicode scalars, as libYAML does).
///
/// ```swift
/// let location = SourceLocation(file: "policy.yaml", line: 12, column: 3)
/// print(location)   // policy.yaml:12:3
/// ```
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The file name as it was given to the loader (relative paths stay relative).
    public var file: String
    /// Line number, starting at 1.
    public var line: Int
    /// Column number, starting at 1.
    public var column: Int

    /// Creates a location.
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}
