import Foundation
import Hummingbird
import ScopeGateHTTPTestSupport
import ScopeGateProxy

/// Serves `proxy` on an ephemeral loopback port as `scopegate proxy` does (``ProxyServer``); returns the port and
/// the serving task (cancel it to stop).
func serveProxy(_ proxy: MCPProxy) async throws -> (Int, Task<Void, any Error>) {
    try await serveOnLoopback(ProxyResponder(proxy: proxy), server: .mcpProxy(proxy))
}

/// A count shared between a test and the closures it gives a proxy.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
