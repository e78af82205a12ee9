import Foundation
import Testing

/// `--bundle` on `scopegate proxy` and `scopegate authz`: flag checks before starting anything, and the refusal to
/// start without any policy (fail closed), all exit 2.
@Suite struct BundleSourceCLITests {
    let policy = "policies/climate.yaml"

    @Test func policyAndBundleExcludeEachOther() throws {
        let r = try CLIRunner.run([
            "authz", "--policy", policy, "--bundle", "http://127.0.0.1:9/policy.bundle",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("--policy and --bundle exclude each other"))
    }

    @Test func oneOfThemIsRequired() throws {
        let r = try CLIRunner.run(["proxy", "--upstream", "http://127.0.0.1:9/mcp"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("give --policy FILE or --bundle URL"))
    }

    @Test func bundleFlagsNeedABundleAndAnHTTPURL() throws {
        let cache = try CLIRunner.run(["authz", "--policy", policy, "--bundle-cache", "/tmp/x"])
        #expect(cache.status == 2, "\(cache.stdout)\(cache.stderr)")
        #expect(cache.stderr.contains("apply to --bundle"))
        let file = try CLIRunner.run(["authz", "--bundle", "file:///etc/passwd"])
        #expect(file.status == 2)
        #expect(file.stderr.contains("--bundle must be an http(s) URL"))
        let poll = try CLIRunner.run(["authz", "--bundle", "http://127.0.0.1:9/b", "--bundle-poll", "0"])
        #expect(poll.status == 2)
        #expect(poll.stderr.contains("--bundle-poll"))
    }

    @Test func withoutAServerNorACacheTheServiceRefusesToStart() throws {
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("sg-cli-\(UUID().uuidString)").path
        // Port 9 (discard) on loopback: nothing listens, the fetch fails at once.
        let r = try CLIRunner.run([
            "authz", "--bundle", "http://127.0.0.1:9/policy.bundle", "--bundle-cache", cache, "--listen",
            "127.0.0.1:0",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("refusing to start: no policy to start with: cannot fetch"))
        #expect(r.stderr.contains("holds no bundle"))
        #expect(r.stderr.contains("no --bundle-key"), "an unverified source is pointed out")
    }
}
