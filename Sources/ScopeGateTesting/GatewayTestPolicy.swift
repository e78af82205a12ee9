/// The policies the gateway's tests decide against, written once: the request-authorization and decision-service
/// tests and the `request`/`response` fuzz targets use ``source``; the proxy's tests build on ``head`` and
/// ``files``. Plain text only (no import), so `scripts/fuzz.sh` compiles this file into its harnesses as it is.
///
/// ```swift
/// let policy = try PolicyCompiler(options: LoadOptions(environment: [:]))
///     .compile(source: GatewayTestPolicy.source).compiled()
/// let stdio = GatewayTestPolicy.files + "\n  crash: files:read"   // `files` ends inside `tools:`
/// ```
public enum GatewayTestPolicy {
    /// The protected resource of every policy here.
    public static let resource = "https://mcp.example.com/mcp"
    /// Its authorization server (the issuer of test tokens).
    public static let issuer = "https://auth.example.com"

    /// `version:` and `resource:`, the start of every policy here.
    public static let head = """
        version: 1
        resource:
          id: https://mcp.example.com/mcp
          authorization_servers: [https://auth.example.com]
          scopes_supported: [files:read]
        """

    /// The smallest policy: `files:write` implies `files:read`; `read_file` and `write_file` need them. It ends
    /// inside `tools:`, so a test may append tool lines (indented by two spaces).
    public static let files =
        head + "\n"
            + """
            scopes:
              files:read: { risk: low }
              files:write: { implies: [files:read] }
            tools:
              read_file: files:read
              write_file: files:write
            """

    /// Plain requirements, an `all:` pair, numeric and boolean `when:` conditions, actions, a method glob, a tool
    /// glob, resources, prompts and one tool in shadow mode (``shadowTool``, whose denials are let through).
    public static let source =
        head + "\n"
            + """
            scopes:
              files:read: { risk: low }
              files:write: { implies: [files:read] }
              files:admin: { risk: admin, implies: [files:write] }
              reports:read: { risk: low }
              reports:export: { risk: sensitive }
              budget:approve: { risk: sensitive }
              tasks:run: { risk: normal }
            tools:
              read_file: files:read
              write_file: files:write
              export_report:
                requires: { all: [reports:read, reports:export] }
              preview: { requires: reports:export, mode: shadow }
              "admin_*": files:admin
              spend:
                requires: reports:read
                when:
                  - arguments: { amount: { gt: 100 } }
                    requires: budget:approve
                  - arguments: { urgent: { equals: true } }
                    requires: files:admin
              file_manager:
                action_argument: action
                actions:
                  read: files:read
                  delete: { requires: files:admin }
                when:
                  - arguments: { path: { prefix: "/etc/" } }
                    requires: files:admin
            methods:
              "tasks/*": tasks:run
            resources:
              "file:///public/*": files:read
            prompts:
              summarize: reports:read
            """

    /// The tool of ``source`` in shadow mode.
    public static let shadowTool = "preview"
}
