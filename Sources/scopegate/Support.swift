import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateCommandLine
import ScopeGateTokens
import ScopeGateURLSession

enum HumanOrJSON: String, ExpressibleByArgument, CaseIterable {
    case human, json
}

/// Checks that the value of `flag` is an absolute http or https URL with a host (`--resource`, `--issuer`).
func validateHTTPURL(_ value: String, flag: String) throws {
    guard let url = URL(string: value), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
        url.host?.isEmpty == false
    else { throw ValidationError("\(flag) must be an http or https URL, not `\(value)`") }
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
