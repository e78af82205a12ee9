import ArgumentParser
import ScopeGateCommandLine

/// `scopegate authz`: parsed here (so `--help` and usage errors come from `scopegate`), run by
/// `scopegate-gateway`, which this process becomes.
struct Authz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authz",
        abstract: "Serve per-tool decisions to nginx auth_request, Caddy forward_auth or Envoy ext_authz.",
        discussion: """
            Answers decision requests on --path: 200 allows (with X-ScopeGate-Subject, -Client and -Scopes for \
            the front proxy to copy upstream; never the token); 401 and 403 carry the same WWW-Authenticate \
            challenge as `scopegate proxy` and a JSON-RPC error body. With the body forwarded (Envoy \
            with_request_body), the body decides and the headers are checked against it, as the proxy does; \
            without it, Mcp-Method, Mcp-Name and Mcp-Param-* decide (protocol 2026-07-28 only: older clients \
            mirror nothing into headers and are refused with a pointer to `scopegate proxy`). Prints at start the \
            arguments the policy decides on, which the server must mark with x-mcp-header. In shadow mode \
            (--mode shadow, or the policy's mode:) denials answer 200 and are audited as would_deny. Reloads the \
            policy on change and SIGHUP, or polls a signed --bundle URL instead (docs/operations.md). Also serves \
            /healthz, /readyz, /metrics and Protected Resource Metadata. Runs in the `scopegate-gateway` executable; see \
            docs/gateway.md and examples/nginx, examples/caddy, examples/envoy. Runs until interrupted; exit 2 \
            when the policy or the options are unusable.
            """)

    @OptionGroup var options: AuthzOptions

    func run() throws { throw GatewayLauncher.exec(subcommand: "authz") }
}
