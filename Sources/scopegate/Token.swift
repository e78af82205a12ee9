import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateClient
import ScopeGateCommandLine
import ScopeGateTokens
import ScopeGateURLSession

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Get a least-privilege token for an MCP resource: the least scopes for the tools you name.",
        discussion: """
            Discovery: a request without a token answers 401 with the resource's metadata (RFC 9728), which names \
            the authorization server (RFC 8414 or OpenID discovery). --tools plans the least scope set from the \
            requirements a ScopeGate front publishes (the public requirements document when the resource links \
            one; else a first token for `scopes_supported` lists the tools and their `_meta`), with the same solver \
            as `scopegate minimal`; with no published requirements it asks for `scopes_supported` and says so. \
            --scopes asks for exactly those. Client credentials by default (secret from --client-secret-env); \
            --authorization-code runs the code flow with PKCE (S256) on a 127.0.0.1 loopback redirect and opens \
            the browser, or prints the URL on stderr with --no-browser. The token is printed on stdout; --cache \
            also keeps it encrypted (AES-GCM) in --cache-dir and reuses or refreshes it next time. \
            Exit: 0 a token, 1 the authorization server or the redirect refused, 2 usage error or no discovery.
            """)

    @Option(name: .long, help: ArgumentHelp("The MCP endpoint.", valueName: "url"))
    var resource: String

    @Option(name: .long, help: ArgumentHelp("Comma-separated tools you mean to call.", valueName: "a,b"))
    var tools: String?

    @Option(name: .long, help: ArgumentHelp("Exactly these scopes (space-separated).", valueName: "scopes"))
    var scopes: String?

    @Option(name: .long, help: ArgumentHelp("The client id registered at the authorization server.", valueName: "id"))
    var clientId: String

    @Option(name: .long, help: ArgumentHelp("The environment variable holding the client secret.", valueName: "VAR"))
    var clientSecretEnv: String?

    @Flag(name: .long, help: "Authorization code with PKCE instead of client credentials.")
    var authorizationCode = false

    @Flag(name: .long, help: "Print the authorization URL on stderr instead of opening a browser.")
    var noBrowser = false

    @Flag(name: .long, help: "Only print the token (the default; nothing is cached).")
    var print = false

    @Flag(name: .long, help: "Keep the token encrypted in the cache and reuse it while it is valid.")
    var cache = false

    @Option(name: .long, help: ArgumentHelp("The token cache directory.", valueName: "dir"))
    var cacheDir: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each request and for the redirect.", valueName: "s"))
    var timeout: Double = 120

    @Option(name: .long, help: "Output format: human (the token alone) or json.")
    var format: HumanOrJSON = .human

    func validate() throws {
        try validateHTTPURL(resource, flag: "--resource")
        if tools != nil && scopes != nil { throw ValidationError("give --tools or --scopes, not both") }
        if print && cache { throw ValidationError("give --print or --cache, not both") }
        if cacheDir != nil && !cache { throw ValidationError("--cache-dir goes with --cache") }
        if noBrowser && !authorizationCode { throw ValidationError("--no-browser goes with --authorization-code") }
        if !authorizationCode && clientSecretEnv == nil {
            throw ValidationError("client credentials need --client-secret-env (or use --authorization-code)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        guard let url = URL(string: resource) else { throw Output.fail("`\(resource)` is not a URL") }
        let environment = ProcessInfo.processInfo.environment
        var secret: String?
        if let variable = clientSecretEnv {
            guard let value = environment[variable], !value.isEmpty else {
                throw Output.fail("`\(variable)` is not set", help: "export the client secret in `\(variable)`")
            }
            secret = value
        }
        let grant: TokenClient.Grant =
            authorizationCode
            ? .authorizationCode(present: { [noBrowser] url in Self.present(url, noBrowser) }) : .clientCredentials
        var client = TokenClient(
            resource: url, registration: ClientRegistration(clientID: clientId, clientSecret: secret), grant: grant,
            fetcher: URLSessionFetcher(timeout: timeout))
        do throws(ClientError) {
            if cache { client.store = try TokenStore(directory: Self.cacheDirectory(cacheDir, environment)) }
            let discovered = try await client.discover()
            let plan: ScopePlan
            if let scopes {
                plan = ScopePlan(scopes: scopes.split(separator: " ").map(String.init), source: .explicit)
            } else if let tools {
                let names = tools.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
                plan = try await client.plan(tools: names, discovered: discovered)
            } else {
                plan = try ScopePlanner.plan(
                    tools: [], published: [:], scopesSupported: discovered.resource.scopesSupported)
            }
            let token = try await client.token(scopes: plan.scopes, discovered: discovered)
            emit(token, plan: plan, discovered: discovered)
        } catch {
            Output.stderr("scopegate: error: \(error.message)\n")
            let input: Set<ClientError.Code> = [.usage, .discovery, .unknownTool, .store, .http, .badDocument]
            throw input.contains(error.code) ? Exit.cannot : Exit.finding
        }
    }

    func emit(_ token: IssuedToken, plan: ScopePlan, discovered: TokenClient.Discovered) {
        switch format {
        case .human:
            for note in plan.notes { Output.stderr("note: \(note)\n") }
            Output.stderr(
                "scopes (\(plan.source.rawValue)\(plan.source == .published && !plan.optimal ? ", not proven optimal" : "")): "
                    + token.scopes.joined(separator: " ") + "\n")
            Output.stdout(token.accessToken + "\n")
        case .json:
            var out: [String: JSONValue] = [
                "v": .number(1), "access_token": .string(token.accessToken), "token_type": .string(token.tokenType),
                "scope": .string(token.scopes.joined(separator: " ")),
                "requested": .array(plan.scopes.map(JSONValue.string)),
                "chosen_by": .string(plan.source.rawValue), "optimal": .bool(plan.optimal),
                "notes": .array(plan.notes.map(JSONValue.string)), "issuer": .string(discovered.server.issuer),
                "resource": .string(discovered.resource.resource),
            ]
            if let expiresAt = token.expiresAt {
                out["expires_at"] = .string(ISO8601DateFormatter().string(from: expiresAt))
            }
            Output.stdout(JSONValue.object(out).jsonText + "\n")
        }
    }

    /// Opens the browser (`open` on macOS, `xdg-open` elsewhere), or prints the URL.
    static func present(_ url: URL, _ noBrowser: Bool) {
        if !noBrowser {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            #if os(macOS)
                process.arguments = ["open", url.absoluteString]
            #else
                process.arguments = ["xdg-open", url.absoluteString]
            #endif
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil {
                Output.stderr("opened the browser to authorize; waiting for the redirect\n")
                return
            }
        }
        Output.stderr("open this URL to authorize: \(url.absoluteString)\n")
    }

    /// `--cache-dir`, else `$XDG_CACHE_HOME/scopegate/tokens`, else `~/.cache/scopegate/tokens`.
    static func cacheDirectory(_ option: String?, _ environment: [String: String]) -> URL {
        if let option { return URL(fileURLWithPath: option) }
        let base =
            environment["XDG_CACHE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache")
        return base.appendingPathComponent("scopegate").appendingPathComponent("tokens")
    }
}
