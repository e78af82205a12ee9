import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain-HTTP (`http://`) Streamable HTTP MCP server as an ``MCPUpstream``, on SwiftNIO directly: the request
/// goes to `url` over a pooled keep-alive HTTP/1.1 connection (``UpstreamConnectionPool``), with the client's
/// headers except `Authorization` and hop-by-hop ones (``ProxyHeaders``), plus the upstream credential when there
/// is one; the answer streams back as it arrives, read no faster than the proxy passes it on.
///
/// It does what ``HTTPUpstream/proxyClient`` is configured to do: redirects and content codings pass to the
/// client untouched, and nothing bounds the time between two reads of a body (a quiet event stream stays open).
/// `timeout` bounds connecting and the wait for the answer's head (504 when it passes); an upstream that cannot be
/// reached is a 502.
///
/// Why not AsyncHTTPClient, which ``HTTPUpstream`` uses for `https://` upstreams: a proxy needs one narrow thing
/// of an HTTP client (one request, one streamed answer, to one origin), and AsyncHTTPClient's general machinery
/// (its request state machines, connection-pool state machine and task hand-offs) was about a third of the
/// proxy's CPU per request in profiles. This path keeps each exchange on its connection's event loop.
///
/// A final class: the proxy's event-loop path captures it in each exchange's callback, and a reference is one
/// count where this value's six fields were six.
///
/// ```swift
/// let upstream = HTTP1Upstream(url: "http://127.0.0.1:9000/mcp", timeout: .seconds(300))  // nil unless http://
/// ```
public final class HTTP1Upstream: MCPUpstream {
    public let url: String
    public let timeout: Duration
    /// The request target (path and query) and the `Host` value every request carries.
    let target: String
    let hostHeader: String
    let pool: UpstreamConnectionPool
    let logger: Logger

    /// Nil when `url` is not an absolute `http://` URL with a host.
    public convenience init?(url: String, timeout: Duration, logger: Logger = Logger(label: "scopegate.proxy")) {
        self.init(url: url, timeout: timeout, logger: logger, idleLimit: UpstreamConnectionPool.defaultIdleLimit)
    }

    /// `idleLimit`: how long a connection may stay idle and still be used (``UpstreamConnectionPool``).
    init?(url: String, timeout: Duration, logger: Logger, idleLimit: TimeAmount) {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "http",
            let host = components.host, !host.isEmpty, components.user == nil, components.password == nil
        else { return nil }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { return nil }
        // An IPv6 literal is connected to without its brackets, and named with them in `Host` (`URLComponents`
        // gives it with or without, depending on the platform's Foundation).
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let bracketed = bare.contains(":") ? "[\(bare)]" : bare
        self.url = url
        self.timeout = timeout
        self.logger = logger
        hostHeader = components.port == nil ? bracketed : "\(bracketed):\(port)"
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        target = components.percentEncodedQuery.map { path + "?" + $0 } ?? path
        pool = UpstreamConnectionPool(host: bare, port: port, idleLimit: idleLimit)
    }

    public func send(_ request: UpstreamRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        do {
            return try await send(request, on: MultiThreadedEventLoopGroup.currentEventLoop).get()
        } catch {
            throw failure(error)
        }
    }

    /// ``send(_:)`` started from `loop` (any loop when nil), on a connection of that loop; the future completes on
    /// the connection's loop, failed with an error that ``failure(_:)`` names.
    func send(_ request: UpstreamRequest, on loop: (any EventLoop)?) -> EventLoopFuture<UpstreamResponse> {
        send(
            method: HTTPMethod(rawValue: request.method),
            fields: request.headers.lazy.map { ($0.name.rawName, $0.value) },
            body: request.body, authorization: request.authorization, on: loop)
    }

    /// ``send(_:on:)`` of a request in parts: `fields` are the client's (``ProxyHeaders`` picks those that go).
    func send(
        method: HTTPMethod, fields: some Collection<(String, String)>, body: ByteBuffer, authorization: String?,
        on loop: (any EventLoop)?
    ) -> EventLoopFuture<UpstreamResponse> {
        let promise = (loop ?? pool.group.any()).makePromise(of: UpstreamResponse.self)
        send(method: method, fields: fields, body: body, authorization: authorization, on: loop) {
            promise.completeWith($0)
        }
        return promise.futureResult
    }

    /// ``send(method:fields:body:authorization:on:)`` with a callback in place of a future: `reply` is called
    /// once, on the upstream connection's event loop (`loop` when given), with the answer or an error that
    /// ``failure(_:)`` names. The proxy's event-loop path uses this: it allocates no future per request.
    func send(
        method: HTTPMethod, fields: some Collection<(String, String)>, body: ByteBuffer, authorization: String?,
        on loop: (any EventLoop)?, reply: @escaping @Sendable (Result<UpstreamResponse, any Error>) -> Void
    ) {
        guard
            let bytes = UpstreamRequestBytes(
                method: method, target: target, host: hostHeader, fields: fields, authorization: authorization,
                body: body)
        else { return reply(.failure(Refused.controlCharacter)) }
        pool.exchange(bytes, deadline: .now() + TimeAmount(timeout), on: loop) { result in
            reply(
                result.map { answer in
                    UpstreamResponse(
                        status: Int(answer.head.status.code), headers: answer.head.headers, body: answer.body)
                })
        }
    }

    /// Why a request was not sent.
    enum Refused: Error, CustomStringConvertible {
        /// A header value to send holds a control character (the `Authorization` credential, or the `Host`).
        case controlCharacter

        var description: String { "a header value to send upstream holds a control character" }
    }

    /// The failure an exchange's error stands for: a timeout (504) or no answer (502).
    func failure(_ error: any Error) -> UpstreamFailure {
        let timedOut = (error as? UpstreamExchangeHandler.Failure) == .timedOut
        return UpstreamFailure.noAnswer(timedOut: timedOut, timeout: timeout, error: error, logger: logger)
    }

    public func shutdown() async {}
}
