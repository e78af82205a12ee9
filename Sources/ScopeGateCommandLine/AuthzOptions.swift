import ArgumentParser
import Foundation
import ScopeGateRequestAuthorization

/// The options of `scopegate authz` (beside the ``GatewayOptions`` it shares with `proxy`), parsed (and `--help` rendered) by `scopegate` and run by
/// `scopegate-gateway`, which `scopegate authz` starts (see ``GatewayLauncher``).
///
/// ```swift
/// @OptionGroup var options: AuthzOptions
/// let settings = options.gateway.authorizationSettings
/// ```
public struct AuthzOptions: ParsableArguments {
    @OptionGroup public var gateway: GatewayOptions

    @Option(name: .long, help: ArgumentHelp("Listen address.", valueName: "host:port"))
    public var listen: String = "127.0.0.1:8081"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The decision path (Envoy's path_prefix requests below it are decisions too).", valueName: "path"))
    public var path: String = "/authz"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Close a connection that sends nothing this long while no answer is being prepared: idle between requests, or still sending its headers (slowloris).",
            valueName: "seconds"))
    public var idleTimeout: Int = 60

    public init() {}

    public func validate() throws {
        guard ListenAddress(listen) != nil else { throw ValidationError("--listen must be host:port") }
        try gateway.validateMetricsListen(besides: listen)
        guard idleTimeout > 0 else { throw ValidationError("--idle-timeout must be positive") }
        guard path.hasPrefix("/"), path.count > 1, !path.contains("?") else {
            throw ValidationError("--path must be an absolute path other than /, e.g. /authz")
        }
    }
}
