import ScopeGate

/// Filters list results inside a `text/event-stream` response as it streams. Each complete event whose data
/// is the response to a tracked list request is rewritten by ``ListFilter``; every other event, and every byte
/// outside events, passes through unchanged, byte for byte, as soon as its event is complete (a progress
/// notification is never held past the next event boundary).
///
/// ```swift
/// var sse = SSEListFilter(filter: listFilter)
/// for try await chunk in upstream { send(sse.feed(chunk)) }
/// send(sse.finish())
/// ```
public struct SSEListFilter: Sendable {
    public let filter: ListFilter
    var splitter = SSEEventSplitter()

    /// A filter with `maxEventBytes` as the largest event it reads.
    public init(filter: ListFilter, maxEventBytes: Int = 4 << 20) {
        self.filter = filter
        splitter = SSEEventSplitter(maxEventBytes: maxEventBytes)
    }

    /// Consumes a chunk and returns the bytes ready to send.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        for piece in splitter.feed(chunk) { emit(piece, to: &out) }
        return out
    }

    /// Returns the rest at the end of the stream. An unfinished event that holds a tracked list result is
    /// filtered like a complete one (the grammar discards it, but a lenient client would read it).
    public mutating func finish() -> [UInt8] {
        var out: [UInt8] = []
        for piece in splitter.finish() {
            if case .raw(let bytes) = piece, filter.isActive, let filtered = rewrite(bytes) {
                out += filtered
            } else {
                emit(piece, to: &out)
            }
        }
        return out
    }

    func emit(_ piece: SSEEventSplitter.Piece, to out: inout [UInt8]) {
        switch piece {
        case .raw(let bytes): out += bytes
        case .event(let bytes): out += filter.isActive ? rewrite(bytes) ?? bytes : bytes
        case .overflow(let bytes, let end):
            // Too large to read: passed on when nothing is filtered, else refused (it may be a list result).
            if !filter.isActive {
                out += bytes
            } else if end {
                out += Array(("data: " + String(decoding: filter.unreadable, as: UTF8.self) + "\n\n").utf8)
            }
        }
    }

    /// The rewritten event, or nil to pass it on unchanged.
    func rewrite(_ event: [UInt8]) -> [UInt8]? {
        // Every event's data is filtered, whatever its `event:` type: a client that reads other types (or a
        // mangled `message`) must not see an unfiltered list either.
        let fields = SSEEventSplitter.fields(of: event)
        let data = fields.filter { $0.name == "data" }.map(\.value)
        guard !data.isEmpty else { return nil }
        let text = data.joined(separator: "\n")
        let filtered: JSONValue
        guard let value = try? JSONParser(maxDepth: filter.maxDepth).parse(text) else {
            // Not JSON: cannot be a list result a client reads; refused only when it could be an unread one.
            return text.contains("\"result\"")
                ? render(fields, data: String(decoding: filter.unreadable, as: UTF8.self)) : nil
        }
        guard let result = filter.filterMessage(value) else { return nil }
        filtered = result
        return render(fields, data: filtered.jsonText)
    }

    /// The event with its data lines replaced by one `data:` line (other fields kept in order).
    func render(_ fields: [(name: String, value: String)], data: String) -> [UInt8] {
        var text = ""
        var wroteData = false
        for field in fields {
            if field.name == "data" {
                if !wroteData { text += "data: " + data + "\n" }
                wroteData = true
            } else if field.name.isEmpty {
                text += ":" + field.value + "\n"
            } else {
                text += field.name + ": " + field.value + "\n"
            }
        }
        return Array((text + "\n").utf8)
    }
}
