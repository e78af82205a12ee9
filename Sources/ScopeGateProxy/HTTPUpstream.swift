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

    public init(
        url: String, timeout: Duration, client: HTTPClient = .shared,
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
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            logger.warning("upstream did not answer in time", metadata: ["timeout": "\(timeout)"])
            throw UpstreamFailure(.timeout, "the upstream MCP server did not answer in time")
        } catch {
            logger.warning("upstream unreachable", metadata: ["error": "\(error)"])
            throw UpstreamFailure(.unreachable, "the upstream MCP server is unavailable")
        }
    }

    public func shutdown() async {}
}
