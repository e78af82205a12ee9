import ArgumentParser
import NIOCore
import NIOPosix
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
    static func main() async {
        // Swift's tasks run on SwiftNIO's event loops, so that a proxied request is read, authorized, forwarded
        // and answered on one thread (the upstream connections are kept per loop) instead of being handed between
        // the loops and Swift's own thread pool. Work that holds a thread runs elsewhere: compiles on Dispatch
        // (`BlockingWork`), stdio children's pipes and the audit writer on their own threads. Where the hook
        // cannot be installed, Swift's default executor serves, only slower.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await CommandMain.run(GatewayCommand.self)
    }
}
