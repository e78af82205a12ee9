import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ScopeGateTokens

/// `HTTPFetcher` over AsyncHTTPClient: the gateway's JWKS, discovery, introspection and token exchange requests
/// and the bundle source's downloads, on AsyncHTTPClient's shared client (redirects followed, a fixed timeout,
/// the body bounded by the request's `maxResponseBytes`). It loads no FoundationNetworking and no libcurl.
///
/// ```swift
/// let fetcher = AsyncHTTPClientFetcher(timeout: .seconds(10))
/// let response = try await fetcher.fetch(HTTPRequest(url: url, maxResponseBytes: 8 << 20))
/// ```
public struct AsyncHTTPClientFetcher: HTTPFetcher {
    let client: HTTPClient
    /// The whole request's deadline, from connecting to the last body byte.
    public let timeout: Duration
    /// The proxy requests go through (``EnvironmentProxy/none``: directly, on `client`).
    public let proxy: EnvironmentProxy

    /// A fetcher on `client` whose requests each have `timeout`; a request that `proxy` sends through a proxy
    /// server goes on a client configured with it instead.
    public init(client: HTTPClient = .shared, timeout: Duration = .seconds(10), proxy: EnvironmentProxy = .none) {
        self.client = client
        self.timeout = timeout
        self.proxy = proxy
    }

    /// Performs `request`; throws on transport failure, timeout, or a body over `maxResponseBytes`.
    public func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if !request.body.isEmpty { outgoing.body = .bytes(ByteBuffer(bytes: request.body)) }
        let client = proxy.server(for: request.url).map(ProxiedClients.client(for:)) ?? self.client
        let response = try await client.execute(outgoing, timeout: .init(timeout))
        let body = try await response.body.collect(upTo: request.maxResponseBytes)
        var headers: [String: String] = [:]
        for field in response.headers {
            headers[field.name] = headers[field.name].map { "\($0), \(field.value)" } ?? field.value
        }
        return HTTPResponse(status: Int(response.status.code), headers: headers, body: Array(buffer: body))
    }
}
