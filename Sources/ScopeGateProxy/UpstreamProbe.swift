import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

extension MCPProxy {
    /// Marks the `upstream` readiness condition once the upstream answers: sends `HEAD` to the upstream URL
    /// every `interval` until any HTTP answer arrives (a 405 counts: the server is up), or the task is
    /// cancelled. A forwarded request that gets an answer marks it too.
    ///
    /// ```swift
    /// let probing = Task { await proxy.probeUpstream() }   // cancel on shutdown
    /// ```
    public func probeUpstream(interval: Duration = .seconds(1)) async {
        while !Task.isCancelled, !operations.readiness.isMet("upstream") {
            var request = HTTPClientRequest(url: configuration.upstream)
            request.method = .HEAD
            if (try? await client.execute(request, timeout: .seconds(2))) != nil {
                operations.readiness.set("upstream")
                return
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
