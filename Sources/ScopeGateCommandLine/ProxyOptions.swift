import ArgumentParser
import Foundation
import ScopeGateMCPClient
import ScopeGateRequestAuthorization

/// The options of `scopegate proxy` (beside the ``GatewayOptions`` it shares with `authz`), parsed (and `--help` rendered) by `scopegate` and run by
/// `scopegate-gateway`, which `scopegate proxy` starts (see ``GatewayLauncher``).
///
/// ```swift
/// @OptionGroup var options: ProxyOptions
/// ```
public struct ProxyOptions: ParsableArguments {
    @OptionGroup public var gateway: GatewayOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The upstream Streamable HTTP MCP endpoint (http://host:port/path); or --upstream-command.",
            valueName: "url"))
    public var upstream: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Start this stdio MCP server (split into words like a shell, nothing expanded) and bridge it; or --upstream.",
            valueName: "command"))
    public var upstreamCommand: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Send the value of this environment variable as the upstream's Authorization header (e.g. `Bearer …`).",
            valueName: "var"))
    public var upstreamAuthEnv: String?

    @Option(name: .long, help: "The most sessions (2025-xx) bound to principals at once.")
    public var maxSessions: Int = 10_000

    @Option(name: .long, help: ArgumentHelp("Forget a session unused this long.", valueName: "seconds"))
    public var sessionIdleTimeout: Int = 3600

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Give up on an upstream that has not started answering after this long (504).", valueName: "seconds"))
    public var upstreamTimeout: Int = 300

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Close a client connection that sends nothing this long: idle between requests, or still sending its headers (slowloris). A response being streamed is never cut.",
            valueName: "seconds"))
    public var idleTimeout: Int = 60

    @Option(
        name: .long,
        help:
            "The most streams (SSE answers, GET streams, subscriptions/listen) held open at once; past it a request that may open one is refused with 503."
    )
    public var maxStreams: Int = 1024

    @Option(
        name: .long,
        help: "The most streams one principal (issuer, subject, client) holds open at once; past it 429.")
    public var maxStreamsPerPrincipal: Int = 64

    @Option(name: .long, help: ArgumentHelp("Listen address.", valueName: "host:port"))
    public var listen: String = "127.0.0.1:8080"

    @Option(name: .long, help: "The MCP endpoint path; default: the path of the resource URI, else /mcp.")
    public var endpoint: String?

    public init() {}

    /// The argv of `--upstream-command`, split like a shell would (nil without one).
    public func upstreamArguments() throws -> [String]? {
        guard let upstreamCommand else { return nil }
        do { return try ShellWords.split(upstreamCommand) } catch {
            throw ValidationError("--upstream-command: \(error.message)")
        }
    }

    public func validate() throws {
        switch (upstream, upstreamCommand) {
        case (nil, nil): throw ValidationError("give --upstream URL or --upstream-command 'CMD ARG…'")
        case (.some, .some): throw ValidationError("--upstream and --upstream-command exclude each other")
        case (let url?, nil):
            guard let parsed = URL(string: url), parsed.host != nil, ["http", "https"].contains(parsed.scheme ?? "")
            else { throw ValidationError("--upstream must be an http(s) URL") }
        case (nil, .some):
            guard try upstreamArguments()?.isEmpty == false else {
                throw ValidationError("--upstream-command is empty")
            }
            guard upstreamAuthEnv == nil else {
                throw ValidationError("--upstream-auth-env applies to an HTTP --upstream, not to a stdio command")
            }
        }
        guard maxSessions > 0, sessionIdleTimeout > 0 else {
            throw ValidationError("--max-sessions and --session-idle-timeout must be positive")
        }
        guard upstreamTimeout > 0, idleTimeout > 0 else {
            throw ValidationError("--upstream-timeout and --idle-timeout must be positive")
        }
        guard maxStreams > 0, maxStreamsPerPrincipal > 0 else {
            throw ValidationError("--max-streams and --max-streams-per-principal must be positive")
        }
        guard ListenAddress(listen) != nil else { throw ValidationError("--listen must be host:port") }
        try gateway.validateMetricsListen(besides: listen)
    }
}

/// A `host:port` listen address.
///
/// ```swift
/// let address = ListenAddress("127.0.0.1:8080")   // host "127.0.0.1", port 8080
/// ```
public struct ListenAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port), colon > text.startIndex
        else { return nil }
        self.host = String(text[..<colon])
        self.port = port
    }
}
