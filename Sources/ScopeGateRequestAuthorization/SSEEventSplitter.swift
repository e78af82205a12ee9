/// Splits a `text/event-stream` byte stream, fed in chunks cut anywhere, into complete events (the raw bytes of
/// an event including the blank line that ends it) and bytes outside any event. Lines end with CR LF, LF or
/// CR (the HTML Living Standard's event stream grammar); an event is complete as soon as its blank line is,
/// so nothing is held back past an event boundary.
///
/// ```swift
/// var splitter = SSEEventSplitter()
/// for piece in splitter.feed(Array("data: {}\n\nda".utf8)) { … }   // .event("data: {}\n\n")
/// splitter.finish()                                                // [.raw("da")]
/// ```
public struct SSEEventSplitter: Sendable {
    /// A piece of the stream, in order; concatenated, the pieces are the input exactly.
    public enum Piece: Sendable, Hashable {
        /// One complete event, ending with its blank line.
        case event([UInt8])
        /// Bytes that belong to no event (a stray line ending, or an unfinished event at the end).
        case raw([UInt8])
        /// Part of an event larger than ``maxEventBytes``, passed on unread; `end` marks its last part.
        case overflow([UInt8], end: Bool)
    }

    var current: [UInt8] = []
    var lineStart = 0
    var lastWasCR = false
    var overflowing = false
    /// Bound on one event's size; a larger event is passed on in ``Piece/overflow(_:end:)`` parts, unread.
    public var maxEventBytes: Int

    public init(maxEventBytes: Int = 4 << 20) { self.maxEventBytes = maxEventBytes }

    /// Consumes `chunk` and returns the pieces it completes.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [Piece] {
        var out: [Piece] = []
        for b in chunk {
            if lastWasCR {
                lastWasCR = false
                if b == 0x0A {
                    if current.isEmpty {
                        out.append(.raw([b]))  // the LF of a CR LF that ended the previous event
                    } else {
                        current.append(b)
                        lineStart = current.count
                    }
                    continue
                }
            }
            guard b == 0x0A || b == 0x0D else {
                current.append(b)
                if current.count > maxEventBytes {
                    out.append(.overflow(current, end: false))
                    overflowing = true
                    current = []
                    lineStart = 0
                }
                continue
            }
            let blank = lineStart == current.count
            current.append(b)
            lastWasCR = b == 0x0D
            if blank {
                if overflowing {
                    out.append(.overflow(current, end: true))
                    overflowing = false
                } else {
                    out.append(current.count == 1 ? .raw(current) : .event(current))
                }
                current = []
                lineStart = 0
            } else {
                lineStart = current.count
            }
        }
        return out
    }

    /// The unfinished rest at the end of the stream.
    public mutating func finish() -> [Piece] {
        defer {
            current = []
            lineStart = 0
            lastWasCR = false
            overflowing = false
        }
        if overflowing { return [.overflow(current, end: true)] }
        return current.isEmpty ? [] : [.raw(current)]
    }

    /// The fields of an event: its lines split at the first `:` (one leading space of the value removed);
    /// comment lines (starting with `:`) are kept with an empty name.
    public static func fields(of event: [UInt8]) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        var i = 0
        var start = 0
        while i < event.count {
            let b = event[i]
            guard b == 0x0A || b == 0x0D else {
                i += 1
                continue
            }
            if i > start { out.append(field(event[start..<i])) }
            i += (b == 0x0D && i + 1 < event.count && event[i + 1] == 0x0A) ? 2 : 1
            start = i
        }
        if start < event.count { out.append(field(event[start..<event.count])) }
        return out
    }

    static func field(_ line: ArraySlice<UInt8>) -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            return (String(decoding: line, as: UTF8.self), "")
        }
        var valueStart = line.index(after: colon)
        if valueStart < line.endIndex, line[valueStart] == 0x20 { valueStart = line.index(after: valueStart) }
        return (
            String(decoding: line[line.startIndex..<colon], as: UTF8.self),
            String(decoding: line[valueStart...], as: UTF8.self)
        )
    }
}
