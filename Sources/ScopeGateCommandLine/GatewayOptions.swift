import ArgumentParser
import Foundation
import ScopeGate
import ScopeGateRequestAuthorization

/// The options `scopegate proxy` and `scopegate authz` share: the policy (a file, or a bundle URL that is
/// polled), the token and challenge settings, the mode and the audit log. Each command adds its own
/// (`ProxyOptions`, `AuthzOptions`).
///
/// ```swift
/// @OptionGroup public var gateway: GatewayOptions
/// let settings = gateway.authorizationSettings
/// if let bundle = gateway.bundleURL { … } else if let policy = gateway.policyOptions { … }
/// ```
public struct GatewayOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The policy file (YAML), or a directory holding it as policy.yaml; or --bundle.", valueName: "path"))
    public var policy: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Fetch the policy as a bundle (`scopegate bundle build`) from this http(s) URL and keep polling it; or --policy.",
            valueName: "url"))
    public var bundle: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The public key (PEM) the bundle's signature must verify with; without it bundles are not verified.",
            valueName: "pub.pem"))
    public var bundleKey: String?

    @Option(
        name: .long,
        help: ArgumentHelp("Poll the bundle URL this often (±10% jitter; 1 to 86400).", valueName: "seconds"))
    public var bundlePoll: Int = 30

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Keep the last good bundle in this directory, and start from it when the bundle server is down.",
            valueName: "dir"))
    public var bundleCache: String?

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

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Serve /metrics (with /healthz and /readyz) on this separate address, and not on the main listener.",
            valueName: "host:port"))
    public var metricsListen: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Refuse a request head (request line and header fields) larger than this with 431, before any token work (1024 to 1048576).",
            valueName: "bytes"))
    public var maxHeaderBytes: Int = 32 << 10

    @Option(name: .long, help: "Refuse a request with more header fields than this with 431 (1 to 10000).")
    public var maxHeaderFields: Int = 100

    public init() {}

    /// `--policy` as the offline commands take it; nil with `--bundle`.
    public var policyOptions: PolicyOptions? { policy.map(PolicyOptions.init(policy:)) }

    /// The `--bundle` URL, once ``validate()`` has accepted it.
    public var bundleURL: URL? { bundle.flatMap(URL.init(string:)) }

    public func validate() throws {
        switch (policy, bundle) {
        case (nil, nil): throw ValidationError("give --policy FILE or --bundle URL")
        case (.some, .some): throw ValidationError("--policy and --bundle exclude each other")
        case (.some, nil):
            if bundleKey != nil || bundleCache != nil {
                throw ValidationError("--bundle-key and --bundle-cache apply to --bundle, not to --policy")
            }
        case (nil, let url?):
            guard let parsed = URL(string: url), parsed.host != nil, ["http", "https"].contains(parsed.scheme ?? "")
            else { throw ValidationError("--bundle must be an http(s) URL") }
            guard (1...86_400).contains(bundlePoll) else {
                throw ValidationError("--bundle-poll must be between 1 and 86400 seconds")
            }
            if bundleCache?.isEmpty == true { throw ValidationError("--bundle-cache needs a directory") }
        }
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
        guard (1024...(1 << 20)).contains(maxHeaderBytes) else {
            throw ValidationError("--max-header-bytes must be between 1024 and 1048576")
        }
        guard (1...10_000).contains(maxHeaderFields) else {
            throw ValidationError("--max-header-fields must be between 1 and 10000")
        }
        if let metricsListen, ListenAddress(metricsListen) == nil {
            throw ValidationError("--metrics-listen must be host:port")
        }
    }

    /// Checks that `--metrics-listen` is not the command's own `--listen` address.
    func validateMetricsListen(besides listen: String) throws {
        guard let metricsListen, let metrics = ListenAddress(metricsListen), metrics.port != 0 else { return }
        if metrics == ListenAddress(listen) { throw ValidationError("--metrics-listen must differ from --listen") }
    }

    /// The request authorization settings these options select (revision minimum, challenge scope, mode, the
    /// request head limits).
    public var authorizationSettings: AuthorizationSettings {
        var settings = AuthorizationSettings(
            protocols: ProtocolSupport(minimum: ProtocolRevision(minProtocol) ?? .june2025),
            challengeScope: challengeScope == "required" ? .required : .grantedPlusMissing)
        settings.mode = mode.flatMap(PolicyMode.init(rawValue:))
        settings.limits.maxHeaderBytes = maxHeaderBytes
        settings.limits.maxHeaderFields = maxHeaderFields
        return settings
    }
}
