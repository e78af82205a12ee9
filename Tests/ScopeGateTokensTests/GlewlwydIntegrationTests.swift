import Foundation
import ScopeGate
import ScopeGateURLSession
import Testing

@testable import ScopeGateTokens

/// Against a real IdP: Glewlwyd started by scripts/glewlwyd-up.sh. Enabled only with SCOPEGATE_GLEWLWYD=1
/// (CI sets it after `apt-get install glewlwyd sqlite3`).
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SCOPEGATE_GLEWLWYD"] == "1"))
struct GlewlwydIntegrationTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/glewlwyd-up.sh")

    @Test func clientCredentialsTokenVerifiesThroughDiscovery() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "scopegate-glewlwyd-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = try freeLoopbackPort()

        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let logPath = dir.appendingPathComponent("up.log").path
        let status = runScript(Self.script.path, [dir.path, String(port)], log: logPath, seconds: 60)
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(status == 0, "glewlwyd-up.sh failed (\(String(describing: status))): \(log)")

        let pidText = try String(contentsOf: dir.appendingPathComponent("glewlwyd.pid"), encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        defer {
            kill(pid, SIGTERM)
            let stop = Date().addingTimeInterval(5)
            while kill(pid, 0) == 0, Date() < stop { usleep(50_000) }
            kill(pid, SIGKILL)
        }

        let issuer = "http://127.0.0.1:\(port)/api/oidc"
        let resource = "https://mcp.test/mcp"
        let fetcher = URLSessionFetcher(timeout: 5)

        func token(resource: String) async throws -> String {
            let basic = Data("mcp-client:mcp-secret".utf8).base64EncodedString()
            let form =
                "grant_type=client_credentials&scope=mcp%3Atools%3Aclimate%20read%3Afiles&resource="
                + (resource.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let response = try await fetcher.fetch(
                HTTPRequest(
                    method: "POST", url: try #require(URL(string: issuer + "/token")),
                    headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"],
                    body: Array(form.utf8), maxResponseBytes: 65_536))
            try #require(
                response.status == 200,
                "token endpoint: \(response.status) \(String(decoding: response.body, as: UTF8.self))")
            let body = try StrictJSON.parse(response.body, maxDepth: 8)
            return try #require(body["access_token"]?.stringValue)
        }

        let config = TokensConfig(
            issuers: [
                TokensConfig.Issuer(
                    issuer: issuer, jwksURI: nil, algorithms: ["RS256"], audiences: [resource],
                    introspection: .init(
                        endpoint: issuer + "/introspect", clientID: "mcp-client", clientSecretEnv: "GLEWLWYD_SECRET"),
                    location: here)
            ],
            requireTyp: "at+jwt")
        let verifier = TokenVerifier(config: config, resource: resource, environment: ["GLEWLWYD_SECRET": "mcp-secret"])

        let verified = try await verifier.verify(try await token(resource: resource))
        #expect(verified.issuer == issuer)
        #expect(verified.clientID == "mcp-client")
        #expect(verified.scopes.contains("mcp:tools:climate"))
        #expect(verified.scopes.contains("read:files"))
        #expect(verified.audiences == [resource])

        // A real token for another resource is refused for ours.
        let other = try await token(resource: "https://other.test/mcp")
        #expect(await expectCode(.audienceMismatch) { try await verifier.verify(other) } == .audienceMismatch)
        // Real RFC 7662 introspection: an unknown opaque token is inactive.
        #expect(await expectCode(.inactive) { try await verifier.verify("not-a-token-glewlwyd-knows") } == .inactive)
    }
}
