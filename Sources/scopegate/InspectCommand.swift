import ArgumentParser
import Foundation
import ScopeGateCommandLine
import ScopeGateTokens

/// `scopegate inspect TOKEN|-`: decode a JWT's header and claims WITHOUT verifying it.
///
/// Exit codes: 0 decoded (warnings do not change it), 2 undecodable input or a bad `--query` (message on stderr).
struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode a JWT without verifying it (output is labelled UNVERIFIED).",
        discussion: """
            Shows the header, claims, times (\"expires in 4 min\") and warnings (expired, no aud, alg none, huge token).
            --query takes jq-style paths over the claims: .scope, .aud[], .realm_access.roles[0], .["https://x/roles"].
            With --verify --policy FILE the token is also verified against the policy's `tokens:` section \
            (keys fetched from the issuer's JWKS, or read from --jwks FILE): exit 1 when verification fails.
            Exit status: 0 decoded (and verified with --verify), 1 verification failed, 2 undecodable input or bad query.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case human, json
    }

    @Argument(help: "The token, or - to read it from standard input.")
    var token: String

    @Option(name: .long, help: "A jq-style path over the claims (repeatable); prints only the matches.")
    var query: [String] = []

    @Option(name: .long, help: "Output format: human or json.")
    var format: Format = .human

    @Flag(name: .long, help: "Also verify the token (signature, issuer, audience, times) with --policy.")
    var verify = false

    @Option(
        name: .long,
        help: ArgumentHelp("Policy whose `tokens:` section verifies the token (with --verify).", valueName: "file"))
    var policy: String?

    @Option(
        name: .long, help: ArgumentHelp("Read keys from this JWKS file instead of fetching them.", valueName: "file"))
    var jwks: String?

    func validate() throws {
        if verify && policy == nil { throw ValidationError("--verify needs --policy") }
        if !verify && (policy != nil || jwks != nil) { throw ValidationError("--policy and --jwks go with --verify") }
    }

    func run() async throws {
        var text = token
        if token == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard data.count <= TokenInspector.maxInspectBytes + 4096 else {
                fail("input is larger than \(TokenInspector.maxInspectBytes) bytes")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let now = Date()
        let decoded: InspectedToken
        do {
            decoded = try TokenInspector.decode(text, now: now)
        } catch {
            fail("cannot decode token: \(error.message)")
        }
        if !query.isEmpty {
            var out = ""
            for path in query {
                do {
                    for value in try TokenInspector.query(path, in: decoded.claims) {
                        if format == .human, case .string(let s) = value {
                            out += s + "\n"
                        } else {
                            out += value.jsonText() + "\n"
                        }
                    }
                } catch {
                    fail("bad query `\(path)`: \(error.description)")
                }
            }
            if format == .human {
                FileHandle.standardError.write(Data("UNVERIFIED: values from an unverified token\n".utf8))
            }
            print(out, terminator: "")
            return
        }
        switch format {
        case .human: print(TokenInspector.renderHuman(decoded, now: now), terminator: "")
        case .json: print(TokenInspector.renderJSON(decoded, now: now))
        }
        if verify, let policy {
            let compiled = try PolicyOptions(policy: policy).load()
            let verified = try await TokenCheck.verify(text, policy: compiled, jwksFile: jwks)
            print(
                "VERIFIED: issuer \(verified.issuer), subject \(verified.subject ?? "-"), scopes: \(verified.scopes.joined(separator: " "))"
            )
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Inspect.exit(withError: ExitCode(2))
    }
}
