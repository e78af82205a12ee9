import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A minimal HTTP request, as the JWKS cache, discovery and introspection need it.
///
/// ```swift
/// let request = HTTPRequest(url: URL(string: "https://auth.example.com/jwks")!, maxResponseBytes: 256 * 1024)
/// let response = try await URLSessionFetcher().fetch(request)
/// ```
public struct HTTPRequest: Sendable, Hashable {
    /// `GET` or `POST`.
    public var method: String
    /// The absolute URL.
    public var url: URL
    /// Request header fields.
    public var headers: [String: String]
    /// The request body (for `POST`).
    public var body: [UInt8]
    /// The largest response body the caller accepts; larger bodies are an error.
    public var maxResponseBytes: Int

    /// Creates a request.
    public init(
        method: String = "GET", url: URL, headers: [String: String] = [:], body: [UInt8] = [], maxResponseBytes: Int
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A minimal HTTP response.
///
/// ```swift
/// let response = try await fetcher.fetch(request)
/// if response.status == 200, response.value(forHeader: "content-type")?.hasPrefix("application/json") == true { … }
/// ```
public struct HTTPResponse: Sendable, Hashable {
    /// The status code.
    public var status: Int
    /// Response header fields; names are compared case-insensitively by ``value(forHeader:)``.
    public var headers: [String: String]
    /// The body (at most the request's `maxResponseBytes`).
    public var body: [UInt8]

    /// Creates a response.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The value of a header field, matched case-insensitively.
    public func value(forHeader name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.key.lowercased() == lower }?.value
    }
}

/// How the library talks HTTP. Inject a fake in tests; the default is ``URLSessionFetcher``.
///
/// ```swift
/// struct FixedJWKS: HTTPFetcher {                              // a test double: every request gets this key set
///     let body: [UInt8]
///     func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
///         HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body)
///     }
/// }
/// let verifier = TokenVerifier(config: tokens, resource: resource, fetcher: FixedJWKS(body: jwks))
/// ```
public protocol HTTPFetcher: Sendable {
    /// Performs `request`. Throws on transport failure or when the body exceeds `request.maxResponseBytes`;
    /// a non-2xx status is returned, not thrown.
    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// ``HTTPFetcher`` over `URLSession` (FoundationNetworking on Linux): no cookies, no caching, a fixed timeout.
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
        self.session = URLSession(configuration: configuration)
    }

    struct TooLarge: Error {}
    struct NotHTTP: Error {}

    /// Performs the request on the fetcher's session.
    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
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

/// URL rules shared by JWKS, discovery and introspection endpoints.
enum EndpointPolicy {
    /// `https`, or `http` to a loopback host (for tests and local IdPs).
    static func isAllowed(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return false }
        if scheme == "https" { return true }
        guard scheme == "http" else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Parses and checks an endpoint string.
    static func url(_ string: String) -> URL? {
        guard let url = URL(string: string), isAllowed(url) else { return nil }
        return url
    }
}
