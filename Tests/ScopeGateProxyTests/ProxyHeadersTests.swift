import Hummingbird
import NIOHTTP1
import Testing

@testable import ScopeGateProxy

/// Which headers cross the proxy, each way.
struct ProxyHeadersTests {
    static func fields(_ pairs: [(String, String)]) -> HTTPFields {
        var fields = HTTPFields()
        for (name, value) in pairs {
            if let name = HTTPFields.Element.Name(name) { fields.append(.init(name: name, value: value)) }
        }
        return fields
    }

    /// Upstream: no client token, no hop-by-hop header (fixed or named by `Connection`), no `Accept-Encoding`;
    /// the MCP headers and the rest pass with their names as sent.
    @Test func whatGoesUpstream() {
        let sent = ProxyHeadersTests.fields([
            ("Authorization", "Bearer client-token"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"),
            ("Keep-Alive", "timeout=5"), ("Accept-Encoding", "gzip, br"), ("Host", "proxy.example"),
            ("Content-Length", "42"), ("Mcp-Method", "tools/call"), ("MCP-Protocol-Version", "2026-07-28"),
            ("Accept", "application/json, text/event-stream"), ("X-Request-Id", "abc"),
        ])
        let upstream = ProxyHeaders.upstream(sent)
        #expect(upstream.map(\.name) == ["Mcp-Method", "MCP-Protocol-Version", "Accept", "X-Request-Id"])
    }

    /// Downstream: no upstream challenge and no hop-by-hop header; `Content-Length` only when the body passes
    /// unchanged; `Content-Encoding` stays with the bytes it labels.
    @Test func whatComesBack() {
        let answered = HTTPHeaders([
            ("Content-Type", "application/json"), ("Content-Length", "17"), ("Content-Encoding", "gzip"),
            ("WWW-Authenticate", #"Bearer scope="upstream:admin""#), ("Connection", "X-Upstream-Hop"),
            ("X-Upstream-Hop", "1"), ("Transfer-Encoding", "chunked"), ("Mcp-Session-Id", "s1"),
        ])
        let unchanged = ProxyHeaders.downstream(answered, dropLength: false).map(\.name)
        #expect(unchanged == ["Content-Type", "Content-Length", "Content-Encoding", "Mcp-Session-Id"])
        let rewritten = ProxyHeaders.downstream(answered, dropLength: true).map(\.name)
        #expect(rewritten == ["Content-Type", "Content-Encoding", "Mcp-Session-Id"])
        // Values lose the blanks around them, as HTTPTypes' fields did when the answer was converted to them.
        let padded = ProxyHeaders.downstream(HTTPHeaders([("X-A", " 1\t"), ("X-B", "2")]), dropLength: true)
        #expect(padded.map(\.value) == ["1", "2"])
    }

    /// Each hop-by-hop or recomputed field is dropped, in any case; a name that only shares a length or a prefix
    /// with one passes.
    @Test func everyHopByHopFieldStaysOnItsSide() {
        let dropped = [
            "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade",
            "Proxy-Authorization", "Proxy-Authenticate", "Host", "Content-Length",
        ]
        let kept = ["Tea", "Hosts", "Trailers", "Upgraded", "Connections", "Content-Type", "Keep-Alive-X", "X"]
        let upstream = ProxyHeaders.upstream(ProxyHeadersTests.fields((dropped + kept).map { ($0, "1") }))
        #expect(upstream.map(\.name) == kept)
        let downstream = ProxyHeaders.downstream(
            HTTPHeaders((dropped + kept).map { ($0.uppercased(), "1") }), dropLength: true)
        #expect(downstream.map(\.name) == kept.map { $0.uppercased() })
    }

    /// `Connection: keep-alive` names no field to drop; any other option does, in any case and list form.
    @Test func connectionOptionsNameFields() {
        #expect(ProxyHeaders.connectionOptions([]).isEmpty)
        #expect(ProxyHeaders.connectionOptions(["keep-alive"]).isEmpty)
        #expect(ProxyHeaders.connectionOptions(["Keep-Alive", "keep-alive"]).isEmpty)
        #expect(ProxyHeaders.connectionOptions(["keep-alive, X-Hop"]) == ["keep-alive", "x-hop"])
        #expect(ProxyHeaders.connectionOptions(["close"]) == ["close"])
        #expect(ProxyHeaders.connectionOptions([" X-A ,, x-b", "X-C"]) == ["x-a", "x-b", "x-c"])
    }

    /// A field value read from SwiftNIO's head loses the spaces and tabs around it, as HTTPTypes' values do.
    @Test func valuesAreTrimmedAsHTTPTypesTrimsThem() {
        #expect(ProxyHeaders.trimmed("tools/call") == "tools/call")
        #expect(ProxyHeaders.trimmed("tools/call \t ") == "tools/call")
        #expect(ProxyHeaders.trimmed("\t a b ") == "a b")
        #expect(ProxyHeaders.trimmed(" \t ") == "")
        #expect(ProxyHeaders.trimmed("") == "")
        for value in ["x ", " x", "a\tb\t", " é "] {
            #expect(ProxyHeaders.trimmed(value) == HTTPFields.Element(name: .accept, value: value).value)
        }
    }

    @Test func plainBytesAreIdentityOrNoCoding() {
        #expect(ProxyHeaders.isIdentity(contentEncoding: []))
        #expect(ProxyHeaders.isIdentity(contentEncoding: ["identity"]))
        #expect(ProxyHeaders.isIdentity(contentEncoding: [" Identity , "]))
        #expect(!ProxyHeaders.isIdentity(contentEncoding: ["gzip"]))
        #expect(!ProxyHeaders.isIdentity(contentEncoding: ["identity", "br"]))
        #expect(!ProxyHeaders.isIdentity(contentEncoding: ["identity, deflate"]))
    }

    /// A list's items over all its field lines: spaces and tabs around an item dropped, empty items skipped,
    /// names lowercased.
    @Test func listItemsAreTrimmedLowercasedAndNeverEmpty() {
        #expect(
            ProxyHeaders.listItems([" Keep-Alive ,\tX-Hop\t, , ", "TE", ",", ""]) == ["keep-alive", "x-hop", "te"])
        #expect(ProxyHeaders.listItems([]).isEmpty)
    }

    /// Media types are matched whatever their letters' case, and only letters fold.
    @Test func mediaTypesAreMatchedIgnoringCase() {
        #expect(ProxyHeaders.isMediaType("Text/Event-Stream; charset=utf-8", "text/event-stream"))
        #expect(ProxyHeaders.isMediaType("application/json", "application/json"))
        #expect(!ProxyHeaders.isMediaType("application/jso", "application/json"))
        #expect(!ProxyHeaders.isMediaType(nil, "application/json"))
        #expect(!ProxyHeaders.isMediaType("text\u{0F}event-stream", "text/event-stream"))
    }
}
