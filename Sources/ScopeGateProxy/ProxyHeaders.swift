import Hummingbird
import NIOHTTP1
import ScopeGateRequestAuthorization

/// Which headers cross the proxy. The client's `Authorization` never goes upstream: the specification forbids
/// token passthrough, and the upstream is not the token's audience. Hop-by-hop headers (RFC 9110 §7.6.1: the
/// fixed ones and those a `Connection` header names) and the framing headers the proxy recomputes stay on their
/// side. Nor does the client's `Accept-Encoding`: the proxy reads list answers to filter them, so it asks the
/// upstream for plain bytes; the client's side of the proxy is not compressed either. Nor does the upstream's
/// `WWW-Authenticate`: the client authenticates to the proxy, whose challenges are its own, and an upstream's would
/// send the client to the upstream's authorization.
enum ProxyHeaders {
    /// Whether `name` (in any case) is hop-by-hop or recomputed by the proxy: `connection`, `keep-alive`,
    /// `proxy-connection`, `transfer-encoding`, `te`, `trailer`, `upgrade`, `proxy-authorization`,
    /// `proxy-authenticate`, `host` and `content-length`. Compared by length first: every request and answer
    /// asks this of each of its fields.
    static func isHopByHop(_ name: String) -> Bool {
        switch name.utf8.count {
        case 2: ASCIICase.equals(name, "te")
        case 4: ASCIICase.equals(name, "host")
        case 7: ASCIICase.equals(name, "trailer") || ASCIICase.equals(name, "upgrade")
        case 10: ASCIICase.equals(name, "connection") || ASCIICase.equals(name, "keep-alive")
        case 14: ASCIICase.equals(name, "content-length")
        case 16: ASCIICase.equals(name, "proxy-connection")
        case 17: ASCIICase.equals(name, "transfer-encoding")
        case 18: ASCIICase.equals(name, "proxy-authenticate")
        case 19: ASCIICase.equals(name, "proxy-authorization")
        default: false
        }
    }

    /// `X-Accel-Buffering: no` on SSE answers, so a buffering proxy in front passes events on at once.
    static let noBuffering = (name: "X-Accel-Buffering", value: "no")

    /// The request headers to send upstream.
    static func upstream(_ fields: HTTPFields) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 3)
        forEachUpstream(fields.lazy.map { ($0.name.rawName, $0.value) }) { headers.add(name: $0, value: $1) }
        return headers
    }

    /// Calls `body` with the name (as the client spelled it) and value of each request field that goes upstream,
    /// in order. `fields` are the client's (`HTTPFields`, or SwiftNIO's `HTTPHeaders` without the first `Host`),
    /// names in any case.
    static func forEachUpstream(_ fields: some Sequence<(String, String)>, _ body: (String, String) -> Void) {
        let named = connectionOptions(fields.lazy.filter { ASCIICase.equals($0.0, "connection") }.map(\.1))
        for (name, value) in fields {
            guard !ASCIICase.equals(name, "authorization"), !ASCIICase.equals(name, "accept-encoding"),
                !isHopByHop(name), named.isEmpty || !named.contains(name.lowercased())
            else { continue }
            body(name, value)
        }
    }

    /// The response headers to send to the client, names as the upstream spelled them and values trimmed
    /// (``trimmed(_:)``); `dropLength` when the proxy rewrites the body. They stay in SwiftNIO's type, which the
    /// connection handler writes as they are (``ProxyAnswer``). The names are HTTP tokens: SwiftNIO's decoder
    /// (llhttp) reads no other.
    static func downstream(_ headers: HTTPHeaders, dropLength: Bool) -> HTTPHeaders {
        // Collected, then made headers at once: `HTTPHeaders.add` checks each name's bytes again (a few hundred
        // instructions a field), and these names passed SwiftNIO's decoder. The `Connection` values are gathered
        // in the same pass (looking them up by name walks every field again and makes an array).
        var fields: [(String, String)] = []
        fields.reserveCapacity(headers.count)
        var connection: [String] = []
        for (name, value) in headers {
            if ASCIICase.equals(name, "connection") {
                connection.append(value)
                continue
            }
            guard !ASCIICase.equals(name, "www-authenticate"),
                !isHopByHop(name) || (!dropLength && ASCIICase.equals(name, "content-length"))
            else { continue }
            fields.append((name, trimmed(value)))
        }
        let named = connectionOptions(connection)
        if !named.isEmpty { fields.removeAll { named.contains($0.0.lowercased()) } }
        return HTTPHeaders(fields)
    }

    /// `value` without the spaces and tabs around it, as HTTPTypes keeps a field value (RFC 9110 §5.5: they are not
    /// part of it); SwiftNIO's HTTP/1 decoder leaves those at the end. The value itself when there are none.
    static func trimmed(_ value: String) -> String {
        // The ends read in place: `String.UTF8View.last` steps back through the view's index checks.
        var value = value
        let padded = value.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            return ByteClass.isBlank(first) || ByteClass.isBlank(last)
        }
        guard padded else { return value }
        return String(Substring(ByteClass.trimmingBlanks(value.utf8)))
    }

    /// Whether a `Content-Type` value is `media` (lowercase), whatever its case and parameters.
    static func isMediaType(_ contentType: String?, _ media: StaticString) -> Bool {
        guard let contentType else { return false }
        return ASCIICase.hasPrefix(contentType, media)
    }

    /// The lowercased field names `Connection` values list (`Connection: keep-alive, X-Hop` names `x-hop`): hop-by-hop
    /// for this connection only, so not passed on (RFC 9110 §7.6.1).
    /// (`keep-alive`, the value most keep-alive answers carry, names a field that is dropped anyway, so it gives the
    /// empty set without reading the list.)
    static func connectionOptions(_ values: some Sequence<String>) -> Set<String> {
        if values.allSatisfy({ ASCIICase.equals($0, "keep-alive") }) { return [] }
        return Set(listItems(values))
    }

    /// Whether a `Content-Encoding` value leaves the body as plain bytes: absent, empty, or only `identity`.
    static func isIdentity(contentEncoding values: [String]) -> Bool {
        listItems(values).allSatisfy { $0 == "identity" }
    }

    /// The items of a comma-separated header list over all its field lines, trimmed and lowercased; empty items
    /// (`a, , b`) are skipped, as RFC 9110 §5.6.1 has recipients do.
    static func listItems(_ values: some Sequence<String>) -> [String] {
        values.flatMap { value in
            value.utf8.split(separator: UInt8(ascii: ",")).compactMap { item -> String? in
                let item = ByteClass.trimmingBlanks(item)
                return item.isEmpty ? nil : String(decoding: item, as: UTF8.self).lowercased()
            }
        }
    }
}
