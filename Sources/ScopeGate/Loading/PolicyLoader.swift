import Foundation

/// One loaded policy file: its text (for caret snippets), its tree, and where it was included from.
package struct LoadedFile: Sendable {
    package var path: String
    package var text: String
    package var root: YAMLNode?

    package init(path: String, text: String, root: YAMLNode?) {
        self.path = path
        self.text = text
        self.root = root
    }
}

/// The files of a policy, root first, plus the diagnostics raised while reading them.
struct LoadResult: Sendable {
    var files: [LoadedFile]
    var diagnostics: Diagnostics
}

/// Reads policy files into located YAML trees, enforcing size, encoding, depth, node and scalar limits.
/// libyaml's events are composed into a ``ComposedYAML``, which ``TreeBuilder`` checks into a ``YAMLDocument``.
package struct PolicyLoader {
    package var options: LoadOptions

    /// Reads a file from disk.
    func read(path: String, includedFrom: SourceLocation?, diagnostics: inout Diagnostics) -> LoadedFile? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > options.maxFileBytes {
            diagnostics.append(tooLarge(bytes: size, path: path, includedFrom: includedFrom))
            return nil
        }
        guard var data = Self.readBounded(path: path, limit: options.maxFileBytes) else {
            let code: Diagnostic.Code = includedFrom == nil ? .unreadableFile : .includeNotFound
            let exists = FileManager.default.fileExists(atPath: path)
            diagnostics.append(
                Diagnostic(
                    code,
                    exists ? "cannot read `\(path)`" : "no such file `\(path)`",
                    at: includedFrom ?? SourceLocation(file: path, line: 1, column: 1),
                    help: includedFrom == nil
                        ? "check the path and permissions"
                        : "include paths are relative to the including file"))
            return nil
        }
        guard let text = text(of: data, path: path, includedFrom: includedFrom, diagnostics: &diagnostics) else {
            return nil
        }
        data = Data()  // the bytes are in `text` now; not holding them twice while composing lowers the peak
        return parse(text: text, path: path, diagnostics: &diagnostics)
    }

    /// Reads at most `limit + 1` bytes (one more than allowed, so ``parse(data:path:includedFrom:diagnostics:)``
    /// still reports a file that grew past the limit after the size check). `nil` when the file cannot be opened.
    static func readBounded(path: String, limit: Int) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        do {
            return try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            return nil
        }
    }

    /// Parses bytes already in memory.
    func parse(
        data: Data, path: String, includedFrom: SourceLocation? = nil,
        diagnostics: inout Diagnostics
    ) -> LoadedFile? {
        guard let text = text(of: data, path: path, includedFrom: includedFrom, diagnostics: &diagnostics) else {
            return nil
        }
        return parse(text: text, path: path, diagnostics: &diagnostics)
    }

    /// The diagnostic of a file over ``LoadOptions/maxFileBytes``, at the `include:` that names it (or its start).
    private func tooLarge(bytes: Int, path: String, includedFrom: SourceLocation?) -> Diagnostic {
        Diagnostic(
            .fileTooLarge, "file is \(bytes) bytes, over the limit of \(options.maxFileBytes)",
            at: includedFrom ?? SourceLocation(file: path, line: 1, column: 1),
            help: "split the policy with `include:` or raise the limit (`--max-file-bytes`)")
    }

    /// The file's text: its bytes checked against the size limit and decoded as UTF-8, or nil with a diagnostic.
    package func text(
        of data: Data, path: String, includedFrom: SourceLocation?, diagnostics: inout Diagnostics
    ) -> String? {
        if data.count > options.maxFileBytes {
            diagnostics.append(tooLarge(bytes: data.count, path: path, includedFrom: includedFrom))
            return nil
        }
        // Validate over the bytes themselves: iterating `Data` through the generic `Sequence` path cost a
        // byte-wise iterator call per byte of a megabyte policy. (The policy's content hash is computed once, by
        // the compiler, over all of its files.)
        let validated: String? = data.withUnsafeBytes { raw in
            String(validating: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
        }
        guard let text = validated else {
            let (line, column) = Self.firstInvalidUTF8(in: data)
            diagnostics.append(
                Diagnostic(
                    .invalidUTF8, "file is not valid UTF-8",
                    at: SourceLocation(file: path, line: line, column: column),
                    help: "save the file as UTF-8; policy files must be UTF-8 text"))
            return nil
        }
        return text
    }

    /// Composes and checks a file's text.
    func parse(text: String, path: String, diagnostics: inout Diagnostics) -> LoadedFile {
        var file = LoadedFile(path: path, text: text, root: nil)
        switch ComposedYAML.compose(text) {
        case .failure(let error):
            diagnostics.append(Self.diagnostic(for: error, path: path, text: text))
        case .success(let document):
            var builder = TreeBuilder(path: path, options: options, document: document)
            file.root = builder.build()?.root
            diagnostics.append(contentsOf: builder.diagnostics)
        }
        return file
    }

    package static func firstInvalidUTF8(in data: Data) -> (Int, Int) {
        var line = 1
        var lineStart = 0
        var i = 0
        let bytes = [UInt8](data)
        while i < bytes.count {
            let b = bytes[i]
            let length: Int
            if b < 0x80 {
                length = 1
            } else if b & 0xE0 == 0xC0 {
                length = 2
            } else if b & 0xF0 == 0xE0 {
                length = 3
            } else if b & 0xF8 == 0xF0 {
                length = 4
            } else {
                length = 0
            }
            var valid = length > 0 && i + length <= bytes.count
            if valid, length > 1 { for k in 1..<length where bytes[i + k] & 0xC0 != 0x80 { valid = false } }
            if valid, length > 1,
                String(validating: bytes[i..<(i + length)], as: UTF8.self) == nil
            {
                valid = false
            }
            if !valid {
                let prefix = String(decoding: bytes[lineStart..<i], as: UTF8.self)
                return (line, prefix.unicodeScalars.count + 1)
            }
            if b == 0x0A {
                line += 1
                lineStart = i + 1
            }
            i += length
        }
        return (line, 1)
    }

    package static func diagnostic(for error: YAMLSyntaxError, path: String, text: String) -> Diagnostic {
        switch error {
        case .syntax(let context, let problem, let markLine, let markColumn):
            let location = SourceLocation(file: path, line: max(markLine, 1), column: max(markColumn, 1))
            let line = SourceText.line(max(markLine, 1), of: text) ?? ""
            let lowered = problem.lowercased()
            if lowered.contains("tab") || (line.prefix { $0 == " " || $0 == "\t" }.contains("\t")) {
                return Diagnostic(
                    .tabIndentation, "tab character where YAML expects spaces",
                    at: location, help: "indent with spaces; YAML does not allow tabs in indentation")
            }
            if lowered.contains("maximum nesting level") {
                return Diagnostic(
                    .nestingTooDeep, "nesting is deeper than the parser allows",
                    at: location, help: "flatten the structure; policies need only a few levels")
            }
            // Yams puts "expected a single document in the stream" in the context, not the problem.
            let contextText = context?.lowercased() ?? ""
            if lowered.contains("single document") || contextText.contains("single document")
                || lowered.contains("expected <document end>")
            {
                return Diagnostic(
                    .multipleDocuments, "a policy file holds one YAML document",
                    at: location, help: "remove the extra `---` document or move it to its own file and `include:` it")
            }
            var message = problem
            if let context { message = "\(context) \(message)".trimmingCharacters(in: .whitespaces) }
            return Diagnostic(
                .yamlSyntax, "invalid YAML: \(message)", at: location,
                help:
                    "fix the YAML syntax at the caret; a value starting with `*`, `&`, `!`, `%`, `@` or a backtick must be quoted"
            )
        case .duplicateKey(let key, let markLine, let markColumn):
            var location = SourceLocation(file: path, line: markLine, column: markColumn)
            var notes: [Diagnostic.Note] = []
            if let second = SourceText.findKey(key, after: markLine, column: markColumn, in: text) {
                notes.append(.init("first defined here", at: location))
                location = SourceLocation(file: path, line: second.0, column: second.1)
            }
            return Diagnostic(
                .duplicateKey, "duplicate key `\(key)`", at: location,
                help: "each key may appear once in a mapping; merge the two entries", notes: notes)
        case .reader(let problem, let offset):
            var location = SourceLocation(file: path, line: 1, column: 1)
            if let offset {
                let prefix = text.utf8.prefix(offset)
                let line = prefix.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
                let lastLine = String(
                    decoding: prefix.split(separator: 0x0A, omittingEmptySubsequences: false).last ?? [], as: UTF8.self)
                location = SourceLocation(file: path, line: line, column: lastLine.unicodeScalars.count + 1)
            }
            return Diagnostic(
                .yamlSyntax, "invalid YAML: \(problem)", at: location,
                help: "remove control characters; policy files must be printable UTF-8 text")
        case .other(let description):
            return Diagnostic(
                .yamlSyntax, "invalid YAML: \(description)", at: SourceLocation(file: path, line: 1, column: 1),
                help: "fix the YAML syntax")
        }
    }
}

/// Helpers over policy source text.
enum SourceText {
    /// The 1-based line `n` of `text`, without its newline.
    static func line(_ n: Int, of text: String) -> String? {
        var current = 1
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "\n" {
                if current == n { return String(text[start..<index]) }
                current += 1
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        return current == n ? String(text[start...]) : nil
    }

    /// Finds the next line after `line` where `key:` starts at `column` (for duplicate-key reports).
    static func findKey(_ key: String, after line: Int, column: Int, in text: String) -> (Int, Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard line < lines.count else { return nil }
        for index in line..<lines.count {
            let content = lines[index]
            let indent = content.prefix { $0 == " " }.count
            guard indent + 1 == column else { continue }
            let rest = content.dropFirst(indent)
            for candidate in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(candidate + ":") {
                return (index + 1, column)
            }
        }
        return nil
    }
}
