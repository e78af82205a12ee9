/// Renders diagnostics for people (rustc-style, with the source line and a caret) and for machines
/// (JSON, SARIF 2.1.0, GitHub workflow annotations).
///
/// ```swift
/// let result = PolicyCompiler().compile(path: "policy.yaml")
/// let renderer = DiagnosticRenderer(sources: ["policy.yaml": try String(contentsOfFile: "policy.yaml", encoding: .utf8)])
/// print(renderer.human(result.diagnostics))          // rustc-style, with carets
/// print(renderer.sarif(result.diagnostics, toolVersion: "1.0"))
/// ```
public struct DiagnosticRenderer: Sendable {
    /// Source text by file path (from ``CompileResult/sources``).
    public var sources: [String: String]
    /// ANSI colours (only on a TTY, never with `NO_COLOR`; the CLI decides).
    public var color: Bool

    public init(sources: [String: String], color: Bool = false) {
        self.sources = sources
        self.color = color
    }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    /// One diagnostic, human-readable:
    /// ```
    /// error[SG202]: unknown scope `mcp:tool:climate`; did you mean `mcp:tools:climate`?
    ///   --> policy.yaml:12:17
    ///    |
    /// 12 |   get_forecast: mcp:tool:climate
    ///    |                 ^
    ///    = help: rename it to `mcp:tools:climate`
    /// ```
    public func human(_ d: Diagnostic) -> String {
        let severityColor = d.severity == .error ? "1;31" : d.severity == .warning ? "1;33" : "1;36"
        var out = paint("\(d.severity.rawValue)[\(d.code.id)]", severityColor) + ": " + paint(d.message, "1") + "\n"
        if let loc = d.location {
            let gutter = String(repeating: " ", count: String(loc.line).count)
            out += "\(gutter)--> \(loc)\n"
            if let text = sources[loc.file], let line = SourceText.line(loc.line, of: text) {
                let shown = line.replacingOccurrences(of: "\t", with: " ")
                let caretPad = String(shown.unicodeScalars.prefix(max(loc.column - 1, 0)).map { _ in " " }.joined())
                out += "\(gutter) |\n\(loc.line) | \(shown)\n\(gutter) | \(caretPad)" + paint("^", severityColor) + "\n"
            }
            for note in d.notes {
                out += "\(gutter) = note: \(note.message)" + (note.location.map { " (\($0))" } ?? "") + "\n"
            }
            if let help = d.help { out += "\(gutter) = " + paint("help", "1;32") + ": \(help)\n" }
        } else {
            for note in d.notes { out += "  = note: \(note.message)\n" }
            if let help = d.help { out += "  = help: \(help)\n" }
        }
        return out
    }

    /// All diagnostics, human-readable, with a summary line.
    public func human(_ diagnostics: Diagnostics) -> String {
        var out = diagnostics.map { human($0) }.joined(separator: "\n")
        let e = diagnostics.count(.error)
        let w = diagnostics.count(.warning)
        let i = diagnostics.count(.info)
        if !diagnostics.isEmpty { out += "\n" }
        out += "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s"), \(i) info\n"
        return out
    }

    /// JSON object for one diagnostic.
    public func json(_ d: Diagnostic) -> String {
        var fields = [
            "\"code\":\(JSONText.quote(d.code.id))",
            "\"name\":\(JSONText.quote(d.code.name))",
            "\"severity\":\(JSONText.quote(d.severity.rawValue))",
            "\"message\":\(JSONText.quote(d.message))",
        ]
        if let l = d.location {
            fields.append("\"file\":\(JSONText.quote(l.file)),\"line\":\(l.line),\"column\":\(l.column)")
        }
        if let help = d.help { fields.append("\"help\":\(JSONText.quote(help))") }
        if !d.notes.isEmpty {
            fields.append(
                "\"notes\":["
                    + d.notes.map { n in
                        "{\"message\":\(JSONText.quote(n.message))"
                            + (n.location.map { ",\"location\":\(JSONText.quote($0.description))" } ?? "") + "}"
                    }.joined(separator: ",") + "]")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// `{"v":1,"diagnostics":[…],"errors":N,"warnings":N,"infos":N}`.
    public func json(_ diagnostics: Diagnostics) -> String {
        "{\"v\":1,\"diagnostics\":[" + diagnostics.map { json($0) }.joined(separator: ",") + "],"
            + "\"errors\":\(diagnostics.count(.error)),\"warnings\":\(diagnostics.count(.warning)),\"infos\":\(diagnostics.count(.info))}\n"
    }

    /// GitHub Actions workflow commands (`::error file=…,line=…,col=…,title=…::message`).
    public func github(_ diagnostics: Diagnostics) -> String {
        func escapeData(_ s: String) -> String {
            s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
        }
        func escapeProperty(_ s: String) -> String {
            escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
        }
        return diagnostics.map { d in
            let kind = d.severity == .error ? "error" : d.severity == .warning ? "warning" : "notice"
            var props: [String] = []
            if let l = d.location { props += ["file=\(escapeProperty(l.file))", "line=\(l.line)", "col=\(l.column)"] }
            props.append("title=\(escapeProperty("\(d.code.id) \(d.code.name)"))")
            let message = d.message + (d.help.map { "\nhelp: \($0)" } ?? "")
            return "::\(kind) \(props.joined(separator: ","))::\(escapeData(message))\n"
        }.joined()
    }

    /// A SARIF 2.1.0 log with one run, every code of `rules` as a rule (by default the compiler's codes; `drift`
    /// and `doctor` pass their own), each with its help at `helpPage#id`.
    public func sarif(
        _ diagnostics: Diagnostics, toolVersion: String, rules codes: [Diagnostic.Code] = Diagnostic.Code.all,
        helpPage: String = "docs/diagnostics.md"
    ) -> String {
        let rules = codes.map { code in
            "{\"id\":\(JSONText.quote(code.id)),\"name\":\(JSONText.quote(code.name)),"
                + "\"shortDescription\":{\"text\":\(JSONText.quote(code.name.replacingOccurrences(of: "-", with: " ")))},"
                + "\"helpUri\":\(JSONText.quote("https://github.com/scopegate/scopegate/blob/main/\(helpPage)#\(code.id.lowercased())")),"
                + "\"defaultConfiguration\":{\"level\":\(JSONText.quote(level(code.severity)))}}"
        }
        let ruleIndex = Dictionary(codes.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let results = diagnostics.map { d -> String in
            var r = "{\"ruleId\":\(JSONText.quote(d.code.id))"
            if let i = ruleIndex[d.code.id] { r += ",\"ruleIndex\":\(i)" }
            r += ",\"level\":\(JSONText.quote(level(d.severity)))"
            let text = d.message + (d.help.map { ". help: \($0)" } ?? "")
            r += ",\"message\":{\"text\":\(JSONText.quote(text))}"
            if let l = d.location {
                r +=
                    ",\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":\(JSONText.quote(l.file))},"
                    + "\"region\":{\"startLine\":\(l.line),\"startColumn\":\(l.column)}}}]"
            }
            return r + "}"
        }
        return "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{"
            + "\"tool\":{\"driver\":{\"name\":\"scopegate\",\"version\":\(JSONText.quote(toolVersion)),"
            + "\"informationUri\":\"https://github.com/scopegate/scopegate\",\"rules\":[" + rules.joined(separator: ",")
            + "]}},"
            + "\"results\":[" + results.joined(separator: ",") + "]}]}\n"
    }

    func level(_ s: Diagnostic.Severity) -> String {
        switch s {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }
}
