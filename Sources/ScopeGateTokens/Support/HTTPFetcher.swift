import Foundation

/// A minimal HTTP request, as the JWKS cache, discovery and introspection need it.
///
/// ```swift
/// let request = HTTPRequest(url: URL(string: "https://auth.example.com/jwks")!, maxResponseBytes: 256 * 1024)
/// let response = try await fetcher.fetch(request)
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

/// How the library talks HTTP. Every type that fetches takes one: `URLSessionFetcher` (the `ScopeGateURLSession`
/// library, which also gives those types initializers that default to it), `AsyncHTTPClientFetcher` (the
/// `ScopeGateAsyncHTTPClient` library, which the gateway uses), or a fake in tests. This library links no HTTP
/// stack, so a service that talks HTTP with AsyncHTTPClient loads neither FoundationNetworking nor libcurl.
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
