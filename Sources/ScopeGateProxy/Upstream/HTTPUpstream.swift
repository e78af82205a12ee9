import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1

/// A Streamable HTTP MCP server as an ``MCPUpstream``: the request goes to `url` with the client's headers
/// except `Authorization` and hop-by-hop ones (``ProxyHeaders``), plus the upstream credential when there is
/// one; the answer streams back as it arrives.
///
/// `timeout` bounds the wait for the answer's head: an upstream that accepts the connection and never answers
/// is given up after it (504, ``UpstreamFailure/Code-swift.struct/timeout``); one that cannot be reached is a
/// 502. A body that has started streaming runs until the upstream ends it or the client goes away.
///
/// ```swift
/// let upstream = HTTPUpstream(url: "http://127.0.0.1:9000/mcp", timeout: .seconds(300))
/// ```
public struct HTTPUpstream: MCPUpstream {
    public let url: String
    public let timeout: Duration
    let client: HTTPClient
    let logger: Logger

    /// The client a proxy forwards with, configured as a reverse proxy needs (`HTTPClient.shared` is set up like a
    /// browser, and each of these differs from it):
    /// - redirects are passed to the client, never followed: following one would send the authorized request
    ///   wherever the upstream names (with the upstream credential, on the same origin);
    /// - bodies pass as the upstream sent them, never decompressed, so a `Content-Encoding` stays true of the
    ///   bytes it labels;
    /// - no read timeout, which would end a quiet event stream (`subscriptions/listen`); ``timeout`` bounds the
    ///   wait for an answer's head;
    /// - up to 64 keep-alive connections per upstream, so that a proxy serving more concurrent requests than the
    ///   default 8 does not open and close a connection for each request above 8.
    ///
    /// Made on first use and kept for the life of the process, as `HTTPClient.shared` is.
    public static let proxyClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(
        url: String, timeout: Duration, client: HTTPClient = HTTPUpstream.proxyClient,
        logger: Logger = Logger(label: "scopegate.proxy")
    ) {
        self.url = url
        self.timeout = timeout
        self.client = client
        self.logger = logger
    }

    public func send(_ request: UpstreamRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        var upstream = HTTPClientRequest(url: url)
        upstream.method = HTTPMethod(rawValue: request.method)
        upstream.headers = ProxyHeaders.upstream(request.headers)
        if let authorization = request.authorization {
            upstream.headers.add(name: "Authorization", value: authorization)
        }
        if request.body.readableBytes > 0 { upstream.body = .bytes(request.body) }
        do {
            let response = try await client.execute(upstream, timeout: .init(timeout))
            return UpstreamResponse(
                status: Int(response.status.code), headers: response.headers, body: .http(response.body))
        } catch {
            let timedOut = (error as? HTTPClientError) == .deadlineExceeded
            throw UpstreamFailure.noAnswer(timedOut: timedOut, timeout: timeout, error: error, logger: logger)
        }
    }

    public func shutdown() async {}
}
