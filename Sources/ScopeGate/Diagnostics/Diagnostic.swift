/// One problem found while loading or compiling a policy.
///
/// Every diagnostic has a stable ``Code``, a ``Severity``, a lowercase message without a final period,
/// the location it is about, and a help line saying how to fix it.
///
/// ```swift
/// for d in PolicyCompiler().compile(path: "policy.yaml").diagnostics where d.severity == .error {
///     print(d.code.id, d.location?.description ?? "-", d.message, d.help ?? "")
/// }
/// ```
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How bad a diagnostic is.
    public enum Severity: String, Sendable, Hashable, Comparable, CaseIterable {
        case info, warning, error

        var rank: Int {
            switch self {
            case .info: 0
            case .warning: 1
            case .error: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// A stable diagnostic code such as `SG202`. Open for extension: new codes are new static members.
    public struct Code: Sendable, Hashable, Comparable, CustomStringConvertible {
        /// The stable identifier, e.g. `SG202`.
        public let id: String
        /// A short kebab-case name, e.g. `undefined-scope`.
        public let name: String
        /// The default severity of this code.
        public let severity: Severity

        public init(_ id: String, _ name: String, _ severity: Severity) {
            self.id = id
            self.name = name
            self.severity = severity
        }

        public var description: String { id }
        public static func < (lhs: Code, rhs: Code) -> Bool { lhs.id < rhs.id }
    }

    /// A secondary location with a message, such as "first defined here".
    public struct Note: Sendable, Hashable {
        public var message: String
        public var location: SourceLocation?
        public init(_ message: String, at location: SourceLocation? = nil) {
            self.message = message
            self.location = location
        }
    }

    public var code: Code
    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    public var help: String?
    public var notes: [Note]

    /// Creates a diagnostic; the severity defaults to the code's.
    public init(
        _ code: Code, _ message: String, at location: SourceLocation?, help: String? = nil,
        notes: [Note] = [], severity: Severity? = nil
    ) {
        self.code = code
        self.severity = severity ?? code.severity
        self.message = message
        self.location = location
        self.help = help
        self.notes = notes
    }

    /// `file:line:column: severity[code]: message`.
    public var description: String {
        let place = location.map { "\($0): " } ?? ""
        return "\(place)\(severity.rawValue)[\(code.id)]: \(message)"
    }
}

/// An ordered collection of diagnostics, as produced by the compiler passes.
///
/// ```swift
/// let diagnostics = PolicyCompiler().compile(path: "policy.yaml").diagnostics
/// print("\(diagnostics.count(.error)) errors, \(diagnostics.count(.warning)) warnings")
/// let first = diagnostics.sorted().first
/// ```
public struct Diagnostics: Sendable, Hashable, RandomAccessCollection {
    public private(set) var items: [Diagnostic] = []

    public init(_ items: [Diagnostic] = []) { self.items = items }

    public var startIndex: Int { items.startIndex }
    public var endIndex: Int { items.endIndex }
    public subscript(position: Int) -> Diagnostic { items[position] }

    /// Adds a diagnostic.
    public mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }
    /// Adds several diagnostics.
    public mutating func append(contentsOf other: some Sequence<Diagnostic>) { items.append(contentsOf: other) }

    /// Whether any diagnostic is an error.
    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    /// Number of diagnostics of a severity.
    public func count(_ severity: Diagnostic.Severity) -> Int {
        items.reduce(0) { $0 + ($1.severity == severity ? 1 : 0) }
    }

    /// Diagnostics sorted by location (file, line, column), then code; located ones first. Duplicates removed.
    public func sorted() -> Diagnostics {
        var seen = Set<Diagnostic>()
        let unique = items.filter { seen.insert($0).inserted }
        return Diagnostics(
            unique.enumerated().sorted { a, b in
                switch (a.element.location, b.element.location) {
                case (let l?, let r?):
                    if l != r { return l < r }
                case (nil, _?): return false
                case (_?, nil): return true
                case (nil, nil): break
                }
                if a.element.code != b.element.code { return a.element.code < b.element.code }
                return a.offset < b.offset
            }.map(\.element))
    }
}

/// Thrown by APIs that need an error-free policy: carries every diagnostic.
///
/// ```swift
/// do {
///     let policy = try PolicyCompiler().compile(path: "policy.yaml").compiled()
/// } catch {
///     print(error.diagnostics.count(.error), "errors")   // typed throws: `error` is a PolicyError
/// }
/// ```
public struct PolicyError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: Diagnostics
    public init(diagnostics: Diagnostics) { self.diagnostics = diagnostics }
    public var description: String {
        diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n")
    }
}
