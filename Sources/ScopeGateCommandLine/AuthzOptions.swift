import ArgumentParser
import Foundation
import ScopeGateRequestAuthorization

/// The options of `scopegate authz`, parsed (and `--help` rendered) by `scopegate` and run by
/// `scopegate-gateway`, which `scopegate authz` starts (see ``GatewayLauncher``).
///
/// ```swift
/// @OptionGroup var options: AuthzOptions
/// let settings = options.authorizationSettings
/// ```
public struct AuthzOptions: ParsableArguments {
    @OptionGroup public var policyOptions: PolicyOptions

    @Option(name: .long, help: ArgumentHelp("Listen address.", valueName: "host:port"))
    public var listen: String = "127.0.0.1:8081"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The decision path (Envoy's path_prefix requests below it are decisions too).", valueName: "path"))
    public var path: String = "/authz"

    @Option(name: .long, help: "The canonical resource URI (token audience); default: the policy's resource.id.")
    public var resource: String?

    @Option(
        name: .long,
        help: "The oldest protocol revision served when the body is forwarded (2025-06-18, 2025-11-25 or 2026-07-28).")
    public var minProtocol: String = "2025-06-18"

    @Option(
        name: .long, help: "The scope of a 403 challenge: required (what the operation needs) or granted-plus-missing.")
    public var challengeScope: String = "required"

    @Option(
        name: .long,
        help: ArgumentHelp("Read the issuers' keys from this JWKS file instead of fetching them.", valueName: "file"))
    public var jwks: String?

    public init() {}

    public func validate() throws {
        guard ListenAddress(listen) != nil else { throw ValidationError("--listen must be host:port") }
        guard path.hasPrefix("/"), path.count > 1, !path.contains("?") else {
            throw ValidationError("--path must be an absolute path other than /, e.g. /authz")
        }
        guard ProtocolRevision(minProtocol).map(ProtocolRevision.known.contains) == true else {
            throw ValidationError("--min-protocol must be one of 2025-06-18, 2025-11-25, 2026-07-28")
        }
        guard ["required", "granted-plus-missing"].contains(challengeScope) else {
            throw ValidationError("--challenge-scope must be required or granted-plus-missing")
        }
    }

    /// The request authorization settings these options select.
    public var authorizationSettings: AuthorizationSettings {
        AuthorizationSettings(
            protocols: ProtocolSupport(minimum: ProtocolRevision(minProtocol) ?? .june2025),
            challengeScope: challengeScope == "required" ? .required : .grantedPlusMissing)
    }
}
