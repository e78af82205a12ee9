import ScopeGate

/// A revision of the MCP specification, as named by the `MCP-Protocol-Version` header: a date `YYYY-MM-DD`.
/// Revisions order by date.
///
/// ```swift
/// let revision = ProtocolRevision("2026-07-28")
/// revision?.isStateless  // true: no sessions, no `initialize`, headers mirror the body
/// ```
public struct ProtocolRevision: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The date text, e.g. `2025-11-25`.
    public let rawValue: String

    /// A revision from its date text; nil unless the text has the shape `YYYY-MM-DD` (digits and dashes).
    public init?(_ text: String) {
        var text = text
        let isDate = text.withUTF8 { bytes in
            bytes.count == 10
                && bytes.indices.allSatisfy { i in
                    (i == 4 || i == 7) ? bytes[i] == UInt8(ascii: "-") : (bytes[i] &- 0x30) < 10
                }
        }
        guard isDate else { return nil }
        rawValue = text
    }

    private init(known: String) { rawValue = known }

    /// 2025-06-18: Streamable HTTP with sessions; `MCP-Protocol-Version` required after `initialize`.
    public static let june2025 = ProtocolRevision(known: "2025-06-18")
    /// 2025-11-25: sessions as in 2025-06-18.
    public static let november2025 = ProtocolRevision(known: "2025-11-25")
    /// 2026-07-28: stateless; every POST mirrors `method`, the name and selected arguments into headers.
    public static let july2026 = ProtocolRevision(known: "2026-07-28")
    /// The revision a request without `MCP-Protocol-Version` is taken to speak (the 2026-07-28 transport
    /// chapter: "MAY treat a request that omits the header as protocol version 2025-03-26").
    public static let march2025 = ProtocolRevision(known: "2025-03-26")

    /// The revisions this library speaks, oldest first.
    public static let known: [ProtocolRevision] = [.june2025, .november2025, .july2026]

    /// No protocol sessions and no `initialize`; request metadata headers that must match the body.
    public var isStateless: Bool { self >= .july2026 }

    public var description: String { rawValue }

    /// By date: the texts are ten ASCII digits and dashes, so `String`'s order (by scalar) is the dates' order.
    public static func < (a: ProtocolRevision, b: ProtocolRevision) -> Bool { a.rawValue < b.rawValue }
}

/// Which protocol revisions a deployment accepts.
///
/// ```swift
/// let support = ProtocolSupport(minimum: .november2025)
/// support.accepts(.june2025)  // false: answered 400 with the supported list
/// ```
public struct ProtocolSupport: Sendable, Hashable {
    /// The accepted revisions (oldest first); a request naming another one gets 400.
    public var supported: [ProtocolRevision]

    /// Accepts the revisions of `known` at or after `minimum`.
    public init(minimum: ProtocolRevision = .june2025, known: [ProtocolRevision] = ProtocolRevision.known) {
        supported = known.filter { $0 >= minimum }
    }

    /// Whether requests speaking `revision` are served.
    public func accepts(_ revision: ProtocolRevision) -> Bool { supported.contains(revision) }

    /// The 400 for an unsupported or malformed `MCP-Protocol-Version` (2026-07-28
    /// `UnsupportedProtocolVersionError`: code -32022, `data: {supported, requested}`).
    func unsupported(_ requested: String, id: JSONValue?) -> RequestRejection {
        RequestRejection(
            .unsupportedProtocolVersion,
            "unsupported protocol version `\(requested.prefix(64))`; supported: "
                + supported.map(\.rawValue).joined(separator: ", "),
            data: .object([
                "supported": .array(supported.map { .string($0.rawValue) }), "requested": .string(requested),
            ]),
            id: id)
    }
}
