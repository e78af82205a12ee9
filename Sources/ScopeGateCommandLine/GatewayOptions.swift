import ArgumentParser
import ScopeGate
import ScopeGateRequestAuthorization

/// The options `scopegate proxy` and `scopegate authz` share: the policy, the token and challenge settings, the
/// mode and the audit log. Each command adds its own (`ProxyOptions`, `AuthzOptions`).
///
/// ```swift
/// @OptionGroup public var gateway: GatewayOptions
/// let settings = gateway.authorizationSettings
/// ```
public struct GatewayOptions: ParsableArguments {
    @OptionGroup public var policyOptions: PolicyOptions

    @Option(name: .long, help: "The canonical resource URI (token audience); default: the policy's resource.id.")
    public var resource: String?

    @Option(name: .long, help: "The oldest protocol revision served (2025-06-18, 2025-11-25 or 2026-07-28).")
    public var minProtocol: String = "2025-06-18"

    @Option(
        name: .long, help: "The scope of a 403 challenge: required (what the operation needs) or granted-plus-missing.")
    public var challengeScope: String = "required"

    @Option(
        name: .long,
        help: ArgumentHelp("Read the issuers' keys from this JWKS file instead of fetching them.", valueName: "file"))
    public var jwks: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Enforce or shadow the whole policy (shadow: denials are let through and audited as would_deny); default: the policy's mode: settings.",
            valueName: "mode"))
    public var mode: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Write one JSON audit event per decision to this file (appended; reopened on SIGHUP), or - for stdout.",
            valueName: "path"))
    public var audit: String?

    public init() {}

    public func validate() throws {
        guard ProtocolRevision(minProtocol).map(ProtocolRevision.known.contains) == true else {
            throw ValidationError("--min-protocol must be one of 2025-06-18, 2025-11-25, 2026-07-28")
        }
        guard ["required", "granted-plus-missing"].contains(challengeScope) else {
            throw ValidationError("--challenge-scope must be required or granted-plus-missing")
        }
        if let mode, !["enforce", "shadow"].contains(mode) {
            throw ValidationError("--mode must be enforce or shadow")
        }
        if audit?.isEmpty == true { throw ValidationError("--audit needs a file path, or - for stdout") }
    }

    /// The request authorization settings these options select (revision minimum, challenge scope, mode).
    public var authorizationSettings: AuthorizationSettings {
        var settings = AuthorizationSettings(
            protocols: ProtocolSupport(minimum: ProtocolRevision(minProtocol) ?? .june2025),
            challengeScope: challengeScope == "required" ? .required : .grantedPlusMissing)
        settings.mode = mode.flatMap(PolicyMode.init(rawValue:))
        return settings
    }
}
