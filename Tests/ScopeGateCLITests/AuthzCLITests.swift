import Foundation
import Testing

/// `scopegate authz`: parsed by `scopegate`, run by `scopegate-gateway`.
@Suite("scopegate authz")
struct AuthzCLITests {
    @Test func helpNamesTheFrontProxiesAndTheFlags() throws {
        let r = try CLIRunner.run(["authz", "--help"])
        #expect(r.status == 0, "\(r.stderr)")
        for text in ["auth_request", "forward_auth", "ext_authz", "--path", "--listen", "--jwks"] {
            #expect(r.stdout.contains(text), "\(text)")
        }
    }

    @Test func aBadPathIsAUsageError() throws {
        let r = try CLIRunner.run(["authz", "--policy", "examples/authz/policy.yaml", "--path", "authz"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--path must be an absolute path"))
    }

    @Test func aNonPositiveIdleTimeoutIsAUsageError() throws {
        let r = try CLIRunner.run(["authz", "--policy", "examples/authz/policy.yaml", "--idle-timeout", "0"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--idle-timeout must be positive"))
    }

    /// An address another process listens on cannot be served: a clear error and exit 2, not a bare socket error.
    @Test func anAddressInUseStopsTheServiceWithExitTwo() throws {
        let (port, fd) = try LoopbackPort.occupied()
        defer { close(fd) }
        let r = try CLIRunner.run(
            ["authz", "--policy", "examples/authz/policy.yaml", "--listen", "127.0.0.1:\(port)"],
            environment: [
                "MCP_RESOURCE": "http://127.0.0.1:\(port)/mcp", "MCP_ISSUER": "http://127.0.0.1:9",
                "MCP_JWKS_URI": "http://127.0.0.1:9/jwks",
            ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("cannot listen: Address already in use"), "\(r.stderr)")
    }

    /// `scopegate` becomes the gateway, which cannot read the policy and exits 2 before listening.
    @Test func anUnreadablePolicyStopsTheServiceWithExitTwo() throws {
        let r = try CLIRunner.run(["authz", "--policy", "no-such-policy.yaml", "--listen", "127.0.0.1:0"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("no-such-policy.yaml"))
    }
}
