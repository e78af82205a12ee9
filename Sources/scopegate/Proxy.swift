import ArgumentParser
import ScopeGateCommandLine

/// `scopegate proxy`: parsed here (so `--help` and usage errors come from `scopegate`), run by
/// `scopegate-gateway`, which this process becomes.
struct Proxy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Serve an authorizing reverse proxy in front of a Streamable HTTP MCP server.",
        discussion: """
            Every request to the endpoint is authorized with the policy (tokens from its `tokens:` section, the \
            audience from `resource.id`); 401, 403 and 400 are answered by the proxy and never forwarded. Allowed \
            requests go to --upstream without the client's Authorization header; responses stream back, list \
            results filtered to what the token may call. Also serves Protected Resource Metadata, /healthz, /readyz \
            and /metrics (Prometheus). A request head over --max-header-bytes or --max-header-fields is 431 before \
            any token work; a request that may open a stream past --max-streams is 503, past \
            --max-streams-per-principal 429, never forwarded. --mode shadow lets denials through and audits them as would_deny; --audit \
            writes one JSON line per decision. The policy is reloaded when its files change and on SIGHUP (a \
            policy with errors never replaces the one in force); with --bundle URL instead of --policy, a signed \
            bundle is polled, verified with --bundle-key and swapped in the same way (docs/operations.md); SIGTERM \
            or SIGINT stop it after in-flight requests and streams finish. Runs in the `scopegate-gateway` \
            executable, built beside `scopegate`. \
            See docs/gateway.md. Exit 2 when the policy or the options are unusable.
            """)

    @OptionGroup var options: ProxyOptions

    func run() throws { throw GatewayLauncher.exec(subcommand: "proxy") }
}
