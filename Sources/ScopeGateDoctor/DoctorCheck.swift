import ScopeGate

/// One item of the deployment checklist `scopegate doctor` runs: a stable id (`SGH01`…), a name, what it
/// verifies and the specification section it comes from (docs/doctor.md lists them all).
///
/// ```swift
/// DoctorCheck.pkceS256.id          // "SGH08"
/// DoctorCheck.all.map(\.name)      // ["prm-reachable", "prm-resource", …]
/// ```
public struct DoctorCheck: Sendable, Hashable {
    /// Stable id, e.g. `SGH08`.
    public let id: String
    /// Stable kebab-case name, e.g. `pkce-s256`.
    public let name: String
    /// What a passing deployment does, in one line.
    public let title: String
    /// The RFC section or MCP specification page the check comes from.
    public let reference: String

    init(_ id: String, _ name: String, _ title: String, _ reference: String) {
        self.id = id
        self.name = name
        self.title = title
        self.reference = reference
    }

    static let mcpAuth = "MCP 2025-11-25 Authorization"

    public static let prmReachable = DoctorCheck(
        "SGH01", "prm-reachable", "protected resource metadata is served at the path form and the root form",
        "RFC 9728 §3; \(mcpAuth), Protected Resource Metadata Discovery")
    public static let prmResource = DoctorCheck(
        "SGH02", "prm-resource", "the metadata's `resource` is the resource's URL",
        "RFC 9728 §3.3")
    public static let prmAuthorizationServers = DoctorCheck(
        "SGH03", "prm-authorization-servers", "the metadata lists the authorization servers (and the issuer)",
        "RFC 9728 §2; \(mcpAuth), Authorization Server Location")
    public static let prmScopes = DoctorCheck(
        "SGH04", "prm-scopes-supported", "`scopes_supported` is present",
        "RFC 9728 §2; \(mcpAuth), Scope Selection Strategy")
    public static let prmNoOfflineAccess = DoctorCheck(
        "SGH05", "prm-no-offline-access", "`scopes_supported` does not offer `offline_access`",
        "\(mcpAuth), Scope Selection Strategy; OAuth 2.1 §4.3")
    public static let asMetadata = DoctorCheck(
        "SGH06", "as-metadata", "authorization server metadata is served and names the issuer",
        "RFC 8414 §3, §3.3; OpenID Connect Discovery 1.0 §4")
    public static let asHTTPS = DoctorCheck(
        "SGH07", "as-https", "the issuer and its endpoints use HTTPS (plain HTTP only on loopback)",
        "RFC 8414 §2; \(mcpAuth), Communication Security")
    public static let pkceS256 = DoctorCheck(
        "SGH08", "pkce-s256", "`code_challenge_methods_supported` contains `S256`",
        "RFC 8414 §2; RFC 7636 §4.2; \(mcpAuth), Authorization Code Protection")
    public static let noLegacyGrants = DoctorCheck(
        "SGH09", "no-implicit-or-password", "neither the implicit nor the password grant is offered",
        "OAuth 2.1 §10.1; RFC 9700 §2.1.2, §2.4")
    public static let resourceIndicators = DoctorCheck(
        "SGH10", "resource-indicators", "tokens can be bound to this resource (resource indicators or audience)",
        "RFC 8707 §2; \(mcpAuth), Resource Parameter Implementation")
    public static let clientRegistration = DoctorCheck(
        "SGH11", "client-registration", "Client ID Metadata Documents or dynamic client registration is stated",
        "\(mcpAuth), Client Registration Approaches; RFC 7591 §3")
    public static let jwksReachable = DoctorCheck(
        "SGH12", "jwks-reachable", "the JWKS is served and holds keys",
        "RFC 8414 §2 (`jwks_uri`); RFC 7517 §5")
    public static let jwksAlgorithms = DoctorCheck(
        "SGH13", "jwks-algorithms", "every signing algorithm is in the allow-list",
        "RFC 8725 §3.1, §3.2; RFC 9068 §4")
    public static let tokenLifetime = DoctorCheck(
        "SGH14", "token-lifetime", "the sample token lives at most one hour",
        "RFC 9700 §2.2.2, §4.14; OAuth 2.1 §7.1")
    public static let tokenAudience = DoctorCheck(
        "SGH15", "token-audience", "the sample token's `aud` is this resource",
        "RFC 8707 §2; RFC 9068 §3; \(mcpAuth), Token Audience Binding and Validation")
    public static let tokenType = DoctorCheck(
        "SGH16", "token-typ", "the sample token's header says `typ: at+jwt`",
        "RFC 9068 §2.1, §4; RFC 8725 §3.11")
    public static let challenge = DoctorCheck(
        "SGH17", "challenge-resource-metadata", "a request without a token gets 401 with `resource_metadata`",
        "RFC 9728 §5.1; RFC 6750 §3; \(mcpAuth), Protected Resource Metadata Discovery")
    public static let otherAudienceRefused = DoctorCheck(
        "SGH18", "other-audience-refused", "a token issued for another audience is refused",
        "RFC 8707 §2; \(mcpAuth), Token Audience Binding and Validation")

    /// Every check, in id order.
    public static let all: [DoctorCheck] = [
        prmReachable, prmResource, prmAuthorizationServers, prmScopes, prmNoOfflineAccess, asMetadata, asHTTPS,
        pkceS256, noLegacyGrants, resourceIndicators, clientRegistration, jwksReachable, jwksAlgorithms,
        tokenLifetime, tokenAudience, tokenType, challenge, otherAudienceRefused,
    ]

    /// The check as a diagnostic code, for the SARIF rules list (a failure is an error, a warning a warning).
    public var code: Diagnostic.Code { Diagnostic.Code(id, name, .error) }
}

/// The outcome of one ``DoctorCheck``: a status, the evidence it rests on and what to do about it.
///
/// ```swift
/// let finding = DoctorFinding(.pkceS256, .fail, evidence: "methods: plain", recommendation: "enable S256")
/// ```
public struct DoctorFinding: Sendable, Hashable {
    /// pass, warn, fail, or skip (the check could not apply, e.g. no sample token given).
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pass, warn, fail, skip
    }

    public let check: DoctorCheck
    public let status: Status
    /// What was observed, quoting the documents (lowercase, names in backticks).
    public let evidence: String
    /// What to change (empty on a pass).
    public let recommendation: String

    public init(_ check: DoctorCheck, _ status: Status, evidence: String, recommendation: String = "") {
        self.check = check
        self.status = status
        self.evidence = evidence
        self.recommendation = recommendation
    }
}
