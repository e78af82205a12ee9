import Foundation
import Testing

/// `scopegate proxy` parses its options and then becomes `scopegate-gateway`, found beside `scopegate`.
@Suite struct GatewayLaunchCLITests {
    @Test func proxyRunsInTheGatewayExecutable() throws {
        // Only the gateway reads the JWKS file, so its message proves the exec happened with the arguments intact.
        let result = try CLIRunner.run([
            "proxy", "--policy", "policies/climate.yaml", "--upstream", "http://127.0.0.1:9/mcp",
            "--listen", "127.0.0.1:0", "--jwks", "/nonexistent/jwks.json",
        ])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot use the JWKS file `/nonexistent/jwks.json`"))
    }

    @Test func usageErrorsComeFromScopegateItself() throws {
        let result = try CLIRunner.run(["proxy", "--policy", "policies/climate.yaml", "--upstream", "not a url"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--upstream must be an http(s) URL"))
    }

    @Test func aMissingGatewayIsAClearErrorNotACrash() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sg-launch-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let alone = directory.appendingPathComponent("scopegate")
        try FileManager.default.copyItem(at: CLIRunner.binary, to: alone)
        let result = try CLIRunner.run(
            ["proxy", "--policy", "policies/climate.yaml", "--upstream", "http://127.0.0.1:9/mcp"],
            environment: ["PATH": directory.path], executable: alone)
        #expect(result.status == 2)
        #expect(result.stderr.contains("`scopegate-gateway` executable, which is not built"))
        #expect(result.stderr.contains("swift build --product scopegate-gateway"))
    }
}
