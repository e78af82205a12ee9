import Foundation
import ScopeGate
import Testing

@testable import ScopeGateProxy

/// Two versions of the drills' policy (the tools of ``FaultyUpstream``): `flip` needs `files:read` in the first
/// and `files:write` in the second; `never` needs a scope no test token has in both.
func flipPolicy(_ version: Int) -> String {
    """
    version: 1
    resource:
      id: https://mcp.example.com/mcp
      authorization_servers: [https://auth.example.com]
    scopes:
      files:read: { risk: low }
      files:write: { implies: [files:read] }
      files:admin: { risk: admin }
    tools:
      stream: files:read
      read_file: files:read
      hang: files:read
      die: files:read
      flip: \(version == 0 ? "files:read" : "files:write")
      never: files:admin
    """
}

/// Policy reloads while 1,000 streaming calls go through the proxy (its name matches the ThreadSanitizer step's
/// filter in CI): every call ends with a whole answer or a refusal, and nothing either version denies is ever
/// forwarded or listed.
@Suite(.serialized) struct ProxyReloadStressTests {
    @Test(arguments: [true, false]) func reloadsDuringAThousandStreamingCalls(atOnce: Bool) async throws {
        try await withFaultyProxy(policy: flipPolicy(0), atOnce: atOnce) { port, store, log in
            let done = FaultyUpstream.Release()
            let reloader = Task {
                var reloads = 0
                var rejected = 0
                while !done.isSet {
                    if case .rejected = store.reload(source: flipPolicy((reloads + 1) % 2), name: "policy.yaml") {
                        rejected += 1
                    }
                    reloads += 1
                    try? await Task.sleep(for: .milliseconds(2))
                }
                return (reloads, rejected)
            }
            let kinds = ["stream", "flip", "never", "list"]
            let results = try await withThrowingTaskGroup(of: (String, Int, String, Bool).self) { group in
                var out: [(String, Int, String, Bool)] = []
                for i in 0..<1_000 {
                    if i >= 50, let next = try await group.next() { out.append(next) }
                    let kind = kinds[i % kinds.count]
                    group.addTask {
                        let answer =
                            kind == "list"
                            ? try await drillPost(port, tool: "", id: 2, method: "tools/list")
                            : try await drillPost(port, tool: kind)
                        return (kind, answer.status, answer.body, answer.error == nil)
                    }
                }
                for try await next in group { out.append(next) }
                return out
            }
            done.set()
            let (reloads, rejected) = await reloader.value
            #expect(results.count == 1_000)
            #expect(reloads > 0)
            #expect(rejected == 0)
            var flips = [200: 0, 403: 0]
            for (kind, status, body, clean) in results {
                #expect(clean, "\(kind) ended with a transport error")
                switch kind {
                case "never":
                    #expect(status == 403)
                case "stream":
                    #expect(status == 200)
                    #expect(body.contains(#""done":true"#))
                case "flip":
                    #expect(status == 200 || status == 403)
                    if status == 200 { #expect(body.contains(#""done":true"#)) }
                    flips[status, default: 0] += 1
                default:
                    #expect(status == 200)
                    #expect(body.contains(#""name":"stream""#))
                    #expect(!body.contains(#""name":"never""#))
                }
            }
            #expect(!log.methods.contains("never"))
            // Each allowed `flip` reached the upstream once; no denied one did.
            #expect(log.methods.filter { $0 == "flip" }.count == flips[200, default: 0])
            #expect(flips[200, default: 0] + flips[403, default: 0] == 250)
            print(
                "proxy reload stress: \(reloads) reloads, flip allowed \(flips[200] ?? 0) / denied \(flips[403] ?? 0)")
        }
    }
}
