import Foundation
import Hummingbird
import HummingbirdCore

/// Serves `responder` on an ephemeral loopback port with `server`; returns the port and the serving task (cancel it
/// to stop). Shared by the proxy's and the decision service's tests.
public func serveOnLoopback<Responder: HTTPResponder>(
    _ responder: Responder, server: HTTPServerBuilder = .http1()
) async throws -> (Int, Task<Void, any Error>) where Responder.Context == BasicRequestContext {
    let port = BoundPort()
    let app = Application(
        responder: responder, server: server, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in port.set(channel.localAddress?.port ?? 0) })
    let task = Task { try await app.run() }
    for _ in 0..<400 where port.get == 0 { try await Task.sleep(for: .milliseconds(25)) }
    return (port.get, task)
}

/// The port a test server bound, set from the server's start-up callback (also for a server a test runs in its
/// own service group).
public final class BoundPort: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    public init() {}
    public func set(_ v: Int) { lock.withLock { value = v } }
    public var get: Int { lock.withLock { value } }
}
