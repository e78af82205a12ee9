import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ScopeGateTokens

/// `HTTPFetcher` over AsyncHTTPClient: the gateway's JWKS, discovery, introspection and token exchange requests
/// and the bundle source's downloads, with a fixed timeout per exchange and the body bounded by the request's
/// `maxResponseBytes`. Its clients follow no redirects; the fetcher follows those ``HTTPRedirect`` allows (a
/// `GET` only, never from `https` to `http`, credentials kept to their origin). It loads no FoundationNetworking
/// and no libcurl.
///
/// ```swift
/// let fetcher = AsyncHTTPClientFetcher(timeout: .seconds(10))
/// let response = try await fetcher.fetch(HTTPRequest(url: url, maxResponseBytes: 8 << 20))
/// ```
public struct AsyncHTTPClientFetcher: HTTPFetcher {
    /// Each exchange's deadline, from connecting to the last body byte (a redirect starts another).
    public let timeout: Duration
    /// The proxy requests go through (``EnvironmentProxy/none``: directly).
    public let proxy: EnvironmentProxy

    /// A fetcher whose exchanges each have `timeout`; a request that `proxy` sends through a proxy server goes
    /// on a client configured with it.
    public init(timeout: Duration = .seconds(10), proxy: EnvironmentProxy = .none) {
        self.timeout = timeout
        self.proxy = proxy
    }

    /// Performs `request` and the redirects ``HTTPRedirect`` allows; throws on transport failure, timeout, or a
    /// body over `maxResponseBytes`.
    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await HTTPRedirect.fetch(request) { try await exchange($0) }
    }

    /// One exchange, on a client that follows no redirects.
    func exchange(_ request: HTTPRequest) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let client = ProxiedClients.client(for: proxy.server(for: request.url))
        let response = try await client.execute(outgoing, timeout: .init(timeout))
        let body = try await response.body.collect(upTo: request.maxResponseBytes)
        var headers: [String: String] = [:]
        for field in response.headers {
            headers[field.name] = headers[field.name].map { "\($0), \(field.value)" } ?? field.value
        }
        return HTTPResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
    }
}
