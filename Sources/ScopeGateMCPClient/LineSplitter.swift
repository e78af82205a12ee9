import Foundation

/// Splits a byte stream into the newline-delimited messages of MCP's stdio transport: each complete line,
/// trimmed of white space, empty lines skipped; a partial line longer than `maxLineBytes` sets ``overflow``.
///
/// ```swift
/// var splitter = LineSplitter(maxLineBytes: 16 << 20)
/// for line in splitter.feed(chunk) { handle(line) }
/// if splitter.overflow { stop() }
/// ```
public struct LineSplitter: Sendable {
    public let maxLineBytes: Int
    var partial = Data()
    /// Whether a line grew past `maxLineBytes` without ending.
    public private(set) var overflow = false

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Consumes a chunk and returns the lines it completes.
    public mutating func feed(_ chunk: Data) -> [String] {
        var lines: [String] = []
        partial.append(chunk)
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            let line = partial[partial.startIndex..<newline]
            partial = Data(partial[partial.index(after: newline)...])
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if !text.isEmpty { lines.append(text) }
        }
        if partial.count > maxLineBytes { overflow = true }
        return lines
    }
}
