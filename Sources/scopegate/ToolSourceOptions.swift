import ArgumentParser
import Foundation
import ScopeGateCommandLine
import ScopeGateMCPClient
import ScopeGateMCPClientHTTP

/// Where `init` and `drift` read a server's tools: a command speaking MCP over stdio, a Streamable HTTP endpoint,
/// or a saved `tools/list`.
struct ToolSourceOptions: ParsableArguments {
    @Option(
        name: .customLong("from-command"),
        help: ArgumentHelp(
            "Start this MCP server (split like a shell, no expansion) and ask it over stdio.", valueName: "cmd"))
    var fromCommand: String?

    @Option(
        name: .customLong("from-file"),
        help: ArgumentHelp("A saved tools/list result, JSON-RPC response or array of tools.", valueName: "tools.json"))
    var fromFile: String?

    @Option(
        name: .customLong("from-url"),
        help: ArgumentHelp("Ask the MCP server at this Streamable HTTP endpoint.", valueName: "url"))
    var fromURL: String?

    @Option(name: .long, help: ArgumentHelp("Bearer token for --from-url.", valueName: "token"))
    var token: String?

    @Option(name: .long, help: ArgumentHelp("Seconds allowed for each request to the server.", valueName: "seconds"))
    var timeout: Int = 30

    func validate() throws {
        if [fromCommand, fromFile, fromURL].compactMap({ $0 }).count != 1 {
            throw ValidationError("give exactly one of --from-command, --from-file or --from-url")
        }
        if let fromURL, URL(string: fromURL)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            throw ValidationError("--from-url must be an http or https URL")
        }
        if token != nil && fromURL == nil { throw ValidationError("--token is only for --from-url") }
        if timeout < 1 || timeout > 3600 { throw ValidationError("--timeout is between 1 and 3600 seconds") }
    }

    /// The tools and a name for the server (its `serverInfo.name`, else the command or file name). Failures print
    /// `scopegate: error: CODE: message` and exit 2.
    func load() throws -> (tools: [MCPTool], serverName: String) {
        let outcome: Result<(tools: [MCPTool], serverName: String), MCPClientError>
        do { outcome = .success(try fetch()) } catch { outcome = .failure(error) }
        switch outcome {
        case .success(let value): return value
        case .failure(let error): throw Output.fail("\(error.code.id): \(error.message)")
        }
    }

    private func fetch() throws(MCPClientError) -> (tools: [MCPTool], serverName: String) {
        if let fromFile {
            let name = URL(fileURLWithPath: fromFile).deletingPathExtension().lastPathComponent
            return (try ToolListReader.read(path: fromFile), name)
        }
        let transport: any MCPTransport
        let fallback: String
        if let fromURL, let url = URL(string: fromURL) {
            transport = HTTPTransport(url: url, token: token)
            fallback = url.host ?? "server"
        } else {
            let argv = try ShellWords.split(fromCommand ?? "")
            transport = try StdioTransport(argv: argv)
            fallback = URL(fileURLWithPath: argv.first ?? "server").lastPathComponent
        }
        let session = MCPSession(transport: transport, timeout: .seconds(timeout))
        let info: MCPSession.ServerInfo
        let tools: [MCPTool]
        do {
            info = try session.initialize()
            tools = try session.listTools()
        } catch {
            session.close()
            throw error
        }
        session.close()
        return (tools, info.name.isEmpty ? fallback : info.name)
    }
}
