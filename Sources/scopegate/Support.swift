import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateTokens

/// The exit codes every command shares (docs/cli.md): 1 a finding (lint errors, a deny), 2 cannot do the job.
enum Exit {
    static let finding = ExitCode(1)
    static let cannot = ExitCode(2)
}

enum Output {
    static func stdout(_ s: String) { FileHandle.standardOutput.write(Data(s.utf8)) }
    static func stderr(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    /// Colour only on a TTY and never with `NO_COLOR`.
    static func color(fd: Int32) -> Bool {
        isatty(fd) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// A clear error on stderr, `scopegate: error: …`.
    static func fail(_ message: String, help: String? = nil) -> ExitCode {
        stderr("scopegate: error: \(message)\n" + (help.map { "  help: \($0)\n" } ?? ""))
        return Exit.cannot
    }
}

enum HumanOrJSON: String, ExpressibleByArgument, CaseIterable {
    case human, json
}

/// `--policy FILE` plus load limits, shared by every command that needs a compiled policy.
struct PolicyOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The policy file (YAML).", valueName: "file"))
    var policy: String

    init() {}
    init(policy: String) { self.policy = policy }

    /// Compiles the policy; a policy with errors prints its diagnostics and exits 2.
    func load() throws -> CompiledPolicy {
        let result = PolicyCompiler().compile(path: policy)
        guard let model = result.model else {
            let renderer = DiagnosticRenderer(sources: result.sources, color: Output.color(fd: 2))
            Output.stderr(renderer.human(Diagnostics(result.diagnostics.filter { $0.severity == .error })))
            throw Output.fail("the policy `\(policy)` has errors", help: "run `scopegate lint \(policy)` and fix them")
        }
        return CompiledPolicy(model: model)
    }
}

/// Parses `--args` JSON (an object).
func parseArguments(_ text: String?) throws -> [String: JSONValue] {
    guard let text else { return [:] }
    do {
        guard case .object(let object) = try JSONParser().parse(text) else {
            throw Output.fail("--args must be a JSON object", help: "e.g. --args '{\"amount\": 1500}'")
        }
        return object
    } catch let failure as JSONParser.Failure {
        throw Output.fail("--args is not valid JSON: \(failure)", help: "e.g. --args '{\"amount\": 1500}'")
    }
}

/// Token verification for `check --token` and `inspect --verify`, configured by the policy's `tokens:` section.
enum TokenCheck {
    /// Verifies `token`; on failure prints the reason (code, safe description) and exits 1.
    static func verify(_ token: String, policy: CompiledPolicy, jwksFile: String?) async throws -> VerifiedToken {
        guard let tokens = policy.model.tokens, !tokens.issuers.isEmpty else {
            throw Output.fail(
                "the policy has no `tokens:` section to verify tokens with",
                help: "add `tokens: { issuers: [...] }` (docs/tokens.md)")
        }
        let resource = policy.model.resource?.id ?? tokens.issuers.first?.audiences.first ?? ""
        var staticKeys: [String: JWKSet] = [:]
        if let jwksFile {
            do {
                let keys = try await JWKSet.load(contentsOfFile: jwksFile)
                for issuer in tokens.issuers { staticKeys[issuer.issuer] = keys }
            } catch {
                throw Output.fail("cannot use the JWKS file `\(jwksFile)`: \(error.message)")
            }
        }
        let verifier = TokenVerifier(config: tokens, resource: resource, staticKeys: staticKeys)
        do {
            return try await verifier.verify(token.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            Output.stderr("scopegate: token rejected: \(error.code.id): \(error.message)\n")
            Output.stderr(
                "WWW-Authenticate: \(policy.unauthorizedChallenge(error: error.oauthError, description: error.message))\n"
            )
            throw Exit.finding
        }
    }
}
