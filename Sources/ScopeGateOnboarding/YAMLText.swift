import ScopeGate

/// Writing YAML scalars and comments for drafted files: plain when that reads back as the same string, else a
/// JSON string literal (valid YAML double-quoted form).
enum YAMLText {
    static func scalar(_ s: String) -> String {
        guard isPlainSafe(s) else { return quoted(s) }
        return s
    }

    static func quoted(_ s: String) -> String {
        var out = ""
        JSONText.writeString(s, to: &out)
        return out
    }

    static func isPlainSafe(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !reserved.contains(s.lowercased()) else { return false }
        guard first.properties.isAlphabetic || first == "_" || first == "/" else { return false }
        if s.contains(": ") || s.hasSuffix(":") || s.contains(" #") { return false }
        return s.unicodeScalars.allSatisfy { c in
            c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || "_-./:+@".unicodeScalars.contains(c))
        }
    }

    static let reserved: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]

    /// One line of text for a comment: white space collapsed, at most `limit` characters.
    static func commentText(_ s: String, limit: Int = 100) -> String {
        let words = s.split(whereSeparator: { $0.isWhitespace })
        let line = words.joined(separator: " ")
        return line.count > limit ? String(line.prefix(limit - 1)) + "…" : line
    }

    /// A flow list of scalars: `[a, b]`.
    static func list(_ items: [String]) -> String { "[" + items.map(scalar).joined(separator: ", ") + "]" }
}
