import Foundation

/// The redirects an ``HTTPFetcher`` follows, one rule for every fetcher: their transports follow none, and
/// ``fetch(_:send:)`` follows those this rule allows.
///
/// - Only `GET` and `HEAD` are redirected. A `POST` (introspection, token exchange, client credentials) carries a
///   token or the client's secret in its body, and a 307 or 308 would send that body on to wherever the
///   `Location` points; its 3xx answer is returned as it is, which the caller reports as a failed request.
/// - Never from `https` to anything else: the endpoint rules admit plain `http` only on loopback, and a
///   redirect must not turn a key set fetched over TLS into one fetched in the clear.
/// - Credentials stay with their origin: `Authorization`, `Proxy-Authorization` and `Cookie` are dropped when
///   the redirect leaves the scheme, host and port of the request.
/// - At most ``maxRedirects`` in a row; the last 3xx is then the answer.
///
/// ```swift
/// let response = try await HTTPRedirect.fetch(request) { try await transport.send($0) }
/// ```
public enum HTTPRedirect {
    /// Redirects followed for one request, as curl's and browsers' limits of the same order.
    public static let maxRedirects = 5

    /// Performs `request` with `send` (one exchange, no redirects of its own), then each redirect the rule
    /// allows. Throws what `send` throws.
    public static func fetch(
        _ request: HTTPRequest, send: (HTTPRequest) async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        var current = request
        var response = try await send(current)
        for _ in 0..<maxRedirects {
            guard let next = next(after: current, response: response) else { return response }
            current = next
            response = try await send(current)
        }
        return response
    }

    /// The request to send after `response` answered `request`, or nil when `response` is the answer.
    public static func next(after request: HTTPRequest, response: HTTPResponse) -> HTTPRequest? {
        guard [301, 302, 303, 307, 308].contains(response.status),
            request.method == "GET" || request.method == "HEAD",
            let location = response.value(forHeader: "location"),
            let target = URL(string: location, relativeTo: request.url)?.absoluteURL,
            let scheme = target.scheme?.lowercased(), let host = target.host, !host.isEmpty
        else { return nil }
        let from = request.url.scheme?.lowercased()
        guard scheme == "https" || (scheme == "http" && from == "http") else { return nil }
        var next = request
        next.url = target
        if !sameOrigin(request.url, target) {
            let credentials: Set<String> = ["authorization", "proxy-authorization", "cookie"]
            next.headers = next.headers.filter { !credentials.contains($0.key.lowercased()) }
        }
        return next
    }

    /// Same scheme, host and port (the default port of the scheme when none is written).
    static func sameOrigin(_ a: URL, _ b: URL) -> Bool {
        func origin(_ url: URL) -> (String, String, Int) {
            let scheme = url.scheme?.lowercased() ?? ""
            return (scheme, url.host?.lowercased() ?? "", url.port ?? (scheme == "https" ? 443 : 80))
        }
        return origin(a) == origin(b)
    }
}
