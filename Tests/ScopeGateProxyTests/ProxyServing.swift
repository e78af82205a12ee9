import Foundation
import Hummingbird
import NIOCore
import ScopeGateHTTPTestSupport
import ScopeGateProxy

/// Serves `proxy` on an ephemeral loopback port as `scopegate proxy` does (``ProxyServer``), with `idleTimeout`
/// (none by default); returns the port and the serving task (cancel it to stop).
func serveProxy(_ proxy: MCPProxy, idleTimeout: TimeAmount? = nil) async throws -> (Int, Task<Void, any Error>) {
    try await serveOnLoopback(
        ProxyResponder(proxy: proxy), server: .mcpProxy(proxy, configuration: .init(idleTimeout: idleTimeout)))
}

/// A count shared between a test and the closures it gives a proxy.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
