/// Why a file is not well-formed YAML, as reported by the parser (libyaml) or the composer (undefined alias,
/// duplicate key, several documents). ``PolicyLoader/diagnostic(for:path:text:)`` turns it into a diagnostic.
/// Lines and columns are 1-based; columns count Unicode scalars, as libyaml does.
package enum YAMLSyntaxError: Error, Sendable, Equatable {
    /// The reader refused a character (for example a control character). `offset` is the position of the
    /// offending character, counted in `Character`s of the text (as Yams counts it), when known.
    case reader(problem: String, offset: Int?)
    /// A scanner, parser or composer error: libyaml's context (for example "while parsing a block mapping"),
    /// its problem, and where the problem is.
    case syntax(context: String?, problem: String, line: Int, column: Int)
    /// The first (in Yams' order) of the keys that appear twice in one mapping, and where it first appears.
    case duplicateKey(String, line: Int, column: Int)
    /// Anything else (the parser ran out of memory), with its description.
    case other(String)
}
