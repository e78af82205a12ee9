import Foundation
import ScopeGateTokens

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// ``HTTPFetcher`` over `URLSession` (FoundationNetworking on Linux): no cookies, no caching, a fixed timeout per
/// exchange. The session follows no redirects; the fetcher follows those ``HTTPRedirect`` allows (a `GET` only,
/// never from `https` to `http`, credentials kept to their origin).
///
/// ```swift
/// let verifier = TokenVerifier(config: tokens, resource: resource, fetcher: URLSessionFetcher(timeout: 2))
/// ```
public struct URLSessionFetcher: HTTPFetcher {
    /// The per-request timeout in seconds.
    public let timeout: TimeInterval
    private let session: URLSession

    /// Creates a fetcher with the given timeout (default 5 s) and one ephemeral session for all its requests
    /// (not one per request: on Linux each session sets up its own libcurl multi handle and work queue).
    public init(timeout: TimeInterval = 5) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        self.session = URLSession(configuration: configuration, delegate: RefuseRedirects(), delegateQueue: nil)
    }

    struct TooLarge: Error {}
    struct NotHTTP: Error {}

    /// Performs the request on the fetcher's session, and the redirects ``HTTPRedirect`` allows.
    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await HTTPRedirect.fetch(request) { try await exchange($0) }
    }

    /// One exchange: the session hands a 3xx back instead of following it (``RefuseRedirects``).
    func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(
            url: request.url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        urlRequest.httpMethod = request.method
        for (k, v) in request.headers { urlRequest.setValue(v, forHTTPHeaderField: k) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let (data, response) = try await session.data(for: urlRequest)
        guard let http = response as? HTTPURLResponse else { throw NotHTTP() }
        guard data.count <= request.maxResponseBytes else { throw TooLarge() }
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields {
            if let k = k as? String, let v = v as? String { headers[k] = v }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: Array(data))
    }
}

/// The session's delegate: every redirect is refused, so the 3xx answer comes back as the response.
final class RefuseRedirects: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
