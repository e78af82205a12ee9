import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ScopeGateHTTP1

/// Hummingbird's HTTP/1.1 server for an ``MCPProxy``, with a ``ProxyConnectionHandler`` on each connection,
/// between the HTTP/1 codec (ScopeGate's request decoder, ``HTTP1RequestDecoder``, and SwiftNIO's response
/// encoder) and Hummingbird's conversion to `HTTPTypes`: a request whose token is cached
/// and whose upstream is plain HTTP is authorized, forwarded and answered on the connection's event loop; every
/// other request goes on to the responder (``ProxyResponder``) as usual. The connection handler sees both kinds of
/// request, so it keeps the configuration's idle timeout and the graceful close in place of Hummingbird's
/// connection-state handler, which it replaces in the pipeline.
///
/// ```swift
/// let app = Application(responder: ProxyResponder(proxy: proxy), server: .mcpProxy(proxy, serverName: "scopegate"),
///                       configuration: .init(address: .hostname("127.0.0.1", port: 8080), serverName: "scopegate"))
/// try await app.runService()
/// ```
public struct ProxyServer: ServerChildChannel {
    public typealias Value = HTTP1Channel.Value
    let base: HTTP1Channel
    let proxy: MCPProxy
    let serverName: String?

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let (idleTimeout, limits) = (base.configuration.idleTimeout, base.configuration.httpDecoder)
        return base.setup(channel: channel, logger: logger).flatMapThrowing { [proxy, serverName] value in
            let pipeline = channel.pipeline.syncOperations
            let wire = try Self.replaceCodec(pipeline, limits: limits)
            let codec = try pipeline.handler(type: HTTP1ToHTTPServerCodec.self)
            try pipeline.addHandler(
                ProxyConnectionHandler(proxy: proxy, serverName: serverName, idleTimeout: idleTimeout, wire: wire),
                position: .before(codec))
            pipeline.removeHandler(try pipeline.handler(type: HTTPConnectionStateHandler.self), promise: nil)
            return value
        }
    }

    /// Replaces SwiftNIO's HTTP/1 codec with ScopeGate's request decoder (``HTTP1RequestDecoder``, with
    /// Hummingbird's limits as its caps) and an unpaired response encoder, and returns the encoder's context. The
    /// connection handler writes some answers past the encoder, as bytes; an encoder paired with SwiftNIO's decoder
    /// would keep their requests' methods queued, and frame later answers by the wrong requests' methods.
    private static func replaceCodec(
        _ pipeline: ChannelPipeline.SynchronousOperations, limits: HTTP1Channel.Configuration.DecoderConfiguration
    ) throws -> ChannelHandlerContext {
        let pairedEncoder = try pipeline.handler(type: HTTPResponseEncoder.self)
        let pairedDecoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let decoder = HTTP1RequestDecoder(
            maxHeadBytes: limits.maxHeaderListSize, maxFields: limits.maxHeaderFieldCount)
        let encoder = HTTPResponseEncoder(configuration: .init())
        try pipeline.addHandler(encoder, position: .after(pairedEncoder))
        try pipeline.addHandler(
            ByteToMessageHandler(decoder), position: .after(pairedDecoder))
        pipeline.removeHandler(pairedEncoder, promise: nil)
        pipeline.removeHandler(pairedDecoder, promise: nil)
        return try pipeline.context(handler: encoder)
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// An HTTP/1.1 server for `proxy` (``ProxyServer``); `serverName` is the `Server` header of the answers its
    /// connection handlers write (give the application's).
    public static func mcpProxy(
        _ proxy: MCPProxy, configuration: HTTP1Channel.Configuration = .init(), serverName: String? = nil
    ) -> HTTPServerBuilder {
        .init { responder in
            ProxyServer(
                base: HTTP1Channel(responder: responder, configuration: configuration), proxy: proxy,
                serverName: serverName)
        }
    }
}
