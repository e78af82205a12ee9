import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine
import ScopeGateTokens

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Decide whether scopes allow a call; one call, or a stream of JSON Lines with --batch.",
        discussion: """
            Single call: exit 0 allowed, 1 denied, 2 when no rule matches the tool (the closest name is \
            suggested). With --explain, the rule, each requirement part, which clause \
            was satisfied, ignored scopes and the cheapest completion are printed.
            Batch: each input line is {"id"?, "method"?, "tool", "arguments"?, "scopes": "a b" | ["a","b"], \
            "client_id"?}; each output line is a Decision record (docs/records.md). A bad line is answered \
            in-stream with {"v":1,"line":N,"id"?,"error":{…}}, the rest is processed, and the exit code is then 2. \
            Denies do not change the exit code (0). --log writes one audit event per decision.
            """)

    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .long, help: "Tool name (tools/call), resource URI (resources/read) or prompt name (prompts/get).")
    var tool: String?

    @Option(name: .long, help: "JSON-RPC method (default tools/call).")
    var method: String = "tools/call"

    @Option(name: .customLong("args"), help: "Call arguments as a JSON object.")
    var arguments: String?

    @Option(name: .long, help: "Granted scopes, space-separated.")
    var scopes: String?

    @Option(name: .long, help: "A bearer token (JWT) to verify; its scopes are the grant.")
    var token: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Read the bearer token from this file ('-' for standard input).", valueName: "file"))
    var tokenFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("With --token: read keys from this JWKS file instead of fetching them.", valueName: "file"))
    var jwks: String?

    @Flag(name: .long, help: "Explain the decision step by step.")
    var explain = false

    @Option(name: .long, help: "JSON Lines of requests to decide ('-' for standard input).")
    var batch: String?

    @Option(name: .long, help: "With --batch: append audit events (JSON Lines) to this file.")
    var log: String?

    @Option(name: .long, help: "Output format for a single call: human or json.")
    var format: HumanOrJSON = .human

    func validate() throws {
        if batch == nil {
            if tool == nil && ["tools/call", "resources/read", "prompts/get"].contains(method) {
                throw ValidationError("give --tool (or --batch)")
            }
            let grants = [scopes != nil, token != nil, tokenFile != nil].filter { $0 }.count
            if grants != 1 {
                throw ValidationError("give exactly one of --scopes (an empty string for none), --token, --token-file")
            }
            if jwks != nil && token == nil && tokenFile == nil {
                throw ValidationError("--jwks goes with --token or --token-file")
            }
        } else if tool != nil || scopes != nil || arguments != nil || token != nil || tokenFile != nil {
            throw ValidationError("--batch reads calls from its input; drop --tool, --scopes and --args")
        }
        if log != nil && batch == nil { throw ValidationError("--log goes with --batch") }
    }

    func run() async throws {
        let policy = try policyOptions.load()
        if let batch {
            let ok = try BatchRunner(policy: policy, input: batch, logPath: log).run()
            if !ok { throw Exit.cannot }
            return
        }
        let call = Call(method: method, name: tool ?? "", arguments: try parseArguments(arguments))
        let grant: Grant
        if let raw = try readToken() {
            let verified = try await TokenCheck.verify(raw, policy: policy, jwksFile: jwks)
            grant = policy.grant(verified.scopes, stripPrefixes: verified.stripPrefixes)
        } else {
            grant = policy.grant(scopeString: scopes ?? "")
        }
        let decision = policy.decide(call, grant: grant)
        if decision.reason == .unknownTool { throw Self.unknownTool(call.name, in: policy, path: policyOptions.policy) }
        let record = policy.record(for: decision, call: call, grant: grant)
        switch format {
        case .json:
            Output.stdout(record.json + "\n")
        case .human:
            var out = decision.allowed ? "allowed" : "denied: \(decision.reason)"
            if let rule = record.rule { out += " (rule at \(rule))" }
            out += "\n"
            if !record.missing.isEmpty { out += "missing: \(record.missing.joined(separator: " "))\n" }
            if let challenge = record.challenge { out += "WWW-Authenticate: \(challenge)\n" }
            if explain {
                out += "\nexplanation:\n" + policy.explain(call, grant: grant).lines.map { "  \($0)\n" }.joined()
            } else {
                for i in record.ignored { out += "ignored: \(i.scope) (\(i.why))\(i.hint.map { "; \($0)" } ?? "")\n" }
            }
            Output.stdout(out)
        }
        if !decision.allowed { throw Exit.finding }
    }

    /// A tool named on the command line that no rule matches is an input error (exit 2), not a denial: most
    /// often a typo, so the closest tool name is suggested.
    static func unknownTool(_ name: String, in policy: CompiledPolicy, path: String) -> ExitCode {
        Output.fail(
            "unknown tool `\(name)`" + ScopeGate.Suggest.clause(name, policy.model.tools.map(\.pattern)),
            help: "`scopegate scopes --policy \(path)` and the policy's `tools:` list what exists")
    }

    /// The token from --token or --token-file, if given.
    func readToken() throws -> String? {
        if let token { return token }
        guard let tokenFile else { return nil }
        let data: Data? =
            tokenFile == "-"
            ? FileHandle.standardInput.readDataToEndOfFile()
            : FileManager.default.contents(atPath: tokenFile)
        guard let data, data.count <= 1 << 20 else {
            throw Output.fail(
                "cannot read the token file `\(tokenFile)`", help: "check the path; tokens are under 16 KiB")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
