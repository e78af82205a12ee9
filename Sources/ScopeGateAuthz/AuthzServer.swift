import NIOCore
import NIOExtras
import NIOPosix
import ScopeGateHTTP1
import ServiceLifecycle

/// Serves an ``AuthzService`` over HTTP/1.1, on SwiftNIO's event loops.
///
/// A decision request is a head of a dozen fields and, from most front proxies, no body; answering it is a
/// token-cache hit and a decision of well under a microsecond, so the HTTP layer is most of the cost. Each
/// connection's bytes are read and answered on its event loop by ``AuthzConnectionHandler``, with a request-head
/// reader and a response writer made for decision requests (``RequestHeadParser``, which says why SwiftNIO's HTTP/1
/// pipeline is not used); only a decision whose token must be verified, which may fetch a JWKS, is an async call.
///
/// What the server does besides the service's answers:
/// - keep-alive (HTTP/1.1, and HTTP/1.0 with `Connection: keep-alive`) and pipelining, answered in order;
/// - a head that is not well-formed HTTP/1.x, or over twice the head limits (``RequestLimits/parserCaps``), gets 400
///   and the connection closed; a body sent without `Content-Length` gets 411;
/// - a connection that sends nothing for ``idleTimeout`` while no answer is being prepared is closed, which also
///   ends a head trickled in byte by byte;
/// - on graceful shutdown (a `ServiceGroup`'s signal, or cancellation) it stops accepting, finishes the requests in
///   flight (their answers say `Connection: close`) and closes idle connections (SwiftNIO Extras'
///   `ServerQuiescingHelper`).
///
/// ```swift
/// let server = AuthzServer(service: service, host: "127.0.0.1", port: 8081)
/// let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
/// try await group.run()
/// ```
public struct AuthzServer: Service {
    public let service: AuthzService
    public let host: String
    public let port: Int
    /// How long a connection may send nothing (between requests, or in the middle of a head or body).
    public let idleTimeout: TimeAmount
    let onListening: @Sendable (_ port: Int) -> Void

    /// - Parameters:
    ///   - port: the port to listen on; 0 picks a free one, which `onListening` reports.
    ///   - onListening: called once the socket listens, with its port.
    public init(
        service: AuthzService, host: String, port: Int, idleTimeout: TimeAmount = .seconds(60),
        onListening: @escaping @Sendable (_ port: Int) -> Void = { _ in }
    ) {
        self.service = service
        self.host = host
        self.port = port
        self.idleTimeout = idleTimeout
        self.onListening = onListening
    }

    /// Listens until graceful shutdown or cancellation, then drains (see the type's discussion). Throws when the
    /// address cannot be bound.
    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let service = self.service
        let idleTimeout = self.idleTimeout
        let limits = service.configuration.authorization.limits
        let caps = limits.parserCaps
        let parser = RequestHeadParser(maxHeadBytes: caps.bytes, maxFields: caps.fields)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    try pipeline.addHandler(
                        AuthzConnectionHandler(service: service, maxBodyBytes: limits.maxBodyBytes, parser: parser))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port).get()
        onListening(channel.localAddress?.port ?? port)
        let drained = group.next().makePromise(of: Void.self)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await drained.futureResult.get()
        } onCancelOrGracefulShutdown: {
            quiescing.initiateShutdown(promise: drained)
        }
    }
}
