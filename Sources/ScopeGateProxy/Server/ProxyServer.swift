import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1.1 server for an ``MCPProxy``, with a ``ProxyConnectionHandler`` on each connection: a
/// request whose token is cached and whose upstream is plain HTTP is authorized, forwarded and answered on the
/// connection's event loop; every other request goes to the responder (``ProxyResponder``) as usual.
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
        base.setup(channel: channel, logger: logger).flatMapThrowing { [proxy, serverName] value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(
                ProxyConnectionHandler(proxy: proxy, serverName: serverName), position: .after(state))
            return value
        }
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
