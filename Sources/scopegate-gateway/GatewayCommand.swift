import ArgumentParser
import ScopeGateCommandLine

/// `scopegate-gateway`: the network services of ScopeGate. Users reach it as `scopegate proxy …`, which starts
/// this executable (see `GatewayLauncher`); it can also be run directly.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scopegate-gateway",
        abstract: "ScopeGate's network services (run as `scopegate proxy` and `scopegate authz`).",
        discussion: "Exit codes: 0 stopped cleanly, 2 cannot start (usage error, policy with errors).",
        subcommands: [ProxyCommand.self, AuthzCommand.self]
    )
}

@main
enum Entry {
    static func main() async { await CommandMain.run(GatewayCommand.self) }
}
