import Foundation
import Testing

/// `scopegate proxy` refuses contradictory or incomplete upstream flags before starting anything (exit 2).
@Suite struct ProxyOptionsCLITests {
    let policy = "policies/climate.yaml"

    @Test func anUpstreamIsRequired() throws {
        let r = try CLIRunner.run(["proxy", "--policy", policy])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("--upstream URL or --upstream-command"))
    }

    @Test func theTwoUpstreamsExcludeEachOther() throws {
        let r = try CLIRunner.run([
            "proxy", "--policy", policy, "--upstream", "http://127.0.0.1:9/mcp", "--upstream-command", "cat",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("exclude each other"))
    }

    @Test func anUnterminatedQuoteInTheCommandIsRefused() throws {
        let r = try CLIRunner.run(["proxy", "--policy", policy, "--upstream-command", "server 'oops"])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("unterminated"))
    }

    @Test func aStaticCredentialNeedsAnHTTPUpstream() throws {
        let r = try CLIRunner.run([
            "proxy", "--policy", policy, "--upstream-command", "cat", "--upstream-auth-env", "TOKEN",
        ])
        #expect(r.status == 2, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("--upstream-auth-env"))
    }
}
