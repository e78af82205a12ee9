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

    /// `scopegate` becomes the gateway, which cannot read the policy and exits 2 before listening.
    @Test func anUnreadablePolicyStopsTheServiceWithExitTwo() throws {
        let r = try CLIRunner.run(["authz", "--policy", "no-such-policy.yaml", "--listen", "127.0.0.1:0"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("no-such-policy.yaml"))
    }
}
