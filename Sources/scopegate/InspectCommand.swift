import ArgumentParser
import Foundation
import ScopeGateTokens

/// `scopegate inspect TOKEN|-`: decode a JWT's header and claims WITHOUT verifying it.
///
/// Exit codes: 0 decoded (warnings do not change it), 2 undecodable input or a bad `--query` (message on stderr).
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a JWT without verifying it (output is labelled UNVERIFIED).",
        discussion: """
            Shows the header, claims, times (\"expires in 4 min\") and warnings (expired, no aud, alg none, huge token).
            --query takes jq-style paths over the claims: .scope, .aud[], .realm_access.roles[0], .["https://x/roles"].
            Exit status: 0 decoded, 2 undecodable input or bad query.
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

    func run() throws {
        var text = token
        if token == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            guard data.count <= TokenInspector.maxInspectBytes + 4096 else { fail("input is larger than \(TokenInspector.maxInspectBytes) bytes") }
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
                        if format == .human, case .string(let s) = value { out += s + "\n" } else { out += value.jsonText() + "\n" }
                    }
                } catch {
                    fail("bad query `\(path)`: \(error.description)")
                }
            }
            if format == .human { FileHandle.standardError.write(Data("UNVERIFIED: values from an unverified token\n".utf8)) }
            print(out, terminator: "")
            return
        }
        switch format {
        case .human: print(TokenInspector.renderHuman(decoded, now: now), terminator: "")
        case .json: print(TokenInspector.renderJSON(decoded, now: now))
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        Inspect.exit(withError: ExitCode(2))
    }
}
