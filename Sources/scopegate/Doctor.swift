import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine
import ScopeGateDoctor
import ScopeGateTokens
import ScopeGateURLSession

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Audit a deployment: resource metadata, authorization server, keys, tokens, challenges.",
        discussion: """
            Fetches the resource's protected resource metadata (path and root form), the authorization server's \
            metadata (RFC 8414, then OpenID discovery), its JWKS, and asks the resource without a token (and, \
            with --other-audience-token, with a token for another audience). Each check (SGH01–SGH18, \
            docs/doctor.md) passes, warns, fails or is skipped, with evidence, a recommendation and a reference. \
            The score counts a pass 1 and a warning ½ over the checks that ran. With --policy, the JWS algorithms \
            allowed are the policy's (its issuer matching the audited one); without, any asymmetric algorithm.
            Exit: 0 no failed check, 1 a check failed, 2 usage error, unreadable policy, or nothing answers at the \
            resource.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case human, json, sarif }

    @Option(name: .long, help: ArgumentHelp("The MCP endpoint clients use.", valueName: "url"))
    var resource: String

    @Option(
        name: .long,
        help: ArgumentHelp("The issuer; default: the metadata's first authorization server.", valueName: "url"))
    var issuer: String?

    @Option(name: .long, help: ArgumentHelp("A sample access token for the resource.", valueName: "token"))
    var token: String?

    @Option(
        name: .long, help: ArgumentHelp("A token issued for another audience; it must be refused.", valueName: "token"))
    var otherAudienceToken: String?

    @Option(
        name: .long,
        help: ArgumentHelp("The policy whose `tokens.issuers[].algorithms` is the allow-list.", valueName: "file"))
    var policy: String?

    @Option(name: .long, help: ArgumentHelp("Seconds allowed for each request.", valueName: "seconds"))
    var timeout: Double = 10

    @Option(name: .long, help: "Output format: human, json or sarif.")
    var format: Format = .human

    func validate() throws {
        try validateHTTPURL(resource, flag: "--resource")
        if let issuer { try validateHTTPURL(issuer, flag: "--issuer") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let issuers = try policy.map { try PolicyOptions(policy: $0).load().model.tokens?.issuers ?? [] }
        let probe = DeploymentProbe(fetcher: URLSessionFetcher(timeout: timeout))
        var evidence = await probe.collect(
            resource: resource, issuer: issuer, token: token, otherAudienceToken: otherAudienceToken)
        guard evidence.resourceAnswered else {
            throw Output.fail(
                "nothing answers at `\(resource)`: \(evidence.challenge?.outcome ?? "no answer")",
                help: "check the URL and that the server is running")
        }
        if let issuers, let policy {
            let matching = issuers.filter { $0.issuer == evidence.issuer }
            let chosen = matching.isEmpty ? issuers : matching
            let algorithms = chosen.flatMap(\.algorithms)
            if !algorithms.isEmpty {
                evidence.allowedAlgorithms = Array(Set(algorithms)).sorted()
                evidence.algorithmsSource = "the allow-list of `\(policy)`"
            }
        }
        let report = DoctorReport(resource: resource, findings: DeploymentDoctor.evaluate(evidence))
        switch format {
        case .human: Output.stdout(report.human(color: Output.color(fd: 1)))
        case .json: Output.stdout(report.json())
        case .sarif: Output.stdout(report.sarif(toolVersion: ScopeGateCommand.version))
        }
        if report.hasFailures { throw Exit.finding }
    }
}
