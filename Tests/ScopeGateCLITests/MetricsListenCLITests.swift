import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A running `scopegate authz` with its policy from a directory and `--metrics-listen`: the operations endpoints
/// move to their own address, and the main listener keeps the decisions, `/healthz` and `/readyz`.
@Suite struct MetricsListenCLITests {
    @Test func aSeparateMetricsAddressServesTheOperationsEndpointsAndTheMainOneNoMetrics() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-dir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            at: CLIRunner.repoRoot.appendingPathComponent("examples/authz/policy.yaml"),
            to: directory.appendingPathComponent("policy.yaml"))
        let (main, metrics) = (try LoopbackPort.free(), try LoopbackPort.free())
        let service = try GatewayProcess.start(
            [
                "authz", "--policy", directory.path, "--listen", "127.0.0.1:\(main)", "--metrics-listen",
                "127.0.0.1:\(metrics)",
            ],
            environment: [
                "MCP_RESOURCE": "http://127.0.0.1:\(main)/mcp", "MCP_ISSUER": "http://127.0.0.1:9",
                "MCP_JWKS_URI": "http://127.0.0.1:9/jwks",
            ])
        defer { service.stop() }

        #expect(try await get(metrics, "/readyz", until: 200).status == 200, "\(service.stderr)")
        #expect(try await get(main, "/metrics").status == 404)
        #expect(try await get(main, "/healthz").status == 200)
        #expect(try await get(main, "/readyz").status == 200)
        // The decision path still answers on the main listener: no token is a 401.
        #expect(try await get(main, "/authz").status == 401)

        let exposition = try await get(metrics, "/metrics")
        #expect(exposition.status == 200)
        #expect(exposition.body.contains("scopegate_policy_info{revision=\""), "\(exposition.body)")
        #expect(try await get(metrics, "/healthz").status == 200)
        #expect(try await get(metrics, "/authz").status == 404)
        #expect(try await get(metrics, "/metrics", method: "POST").status == 405)

        #expect(service.terminate() == 0)
        #expect(service.stderr.contains("metrics on http://127.0.0.1:\(metrics)/metrics"))
    }

    @Test func theMetricsAddressMustBeUsableAndApart() throws {
        let same = try CLIRunner.run([
            "authz", "--policy", "policies/climate.yaml", "--listen", "127.0.0.1:9100", "--metrics-listen",
            "127.0.0.1:9100",
        ])
        #expect(same.status == 2, "\(same.stderr)")
        #expect(same.stderr.contains("--metrics-listen must differ from --listen"))
        let bad = try CLIRunner.run([
            "proxy", "--policy", "policies/climate.yaml", "--upstream", "http://127.0.0.1:9/mcp", "--metrics-listen",
            "9100",
        ])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("--metrics-listen must be host:port"))
    }

    struct Answer {
        var status: Int
        var body: String
    }

    /// `method path` on the loopback `port`; with `until`, retried (up to 20 s) while the service starts.
    func get(_ port: Int, _ path: String, method: String = "GET", until expected: Int? = nil) async throws -> Answer {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)\(path)")))
        request.httpMethod = method
        request.timeoutInterval = 5
        for attempt in 0..<200 {
            do {
                let (data, response) = try await URLSession.shared.data(for: request)
                let answer = Answer(
                    status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: String(decoding: data, as: UTF8.self)
                )
                if expected == nil || answer.status == expected || attempt == 199 { return answer }
            } catch  where expected != nil && attempt < 199 {}
            try await Task.sleep(for: .milliseconds(100))
        }
        return Answer(status: 0, body: "")
    }
}
