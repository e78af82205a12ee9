/// The policy's `tokens:` section: how bearer tokens are validated and how scopes are read from them.
///
/// The core only parses and checks this section (unsafe settings are diagnostics); `ScopeGateTokens`
/// consumes it to build a verifier. `${VAR}` references were already substituted at load time.
///
/// ```swift
/// for issuer in policy.model.tokens?.issuers ?? [] { print(issuer.issuer, issuer.audiences, issuer.stripPrefixes) }
/// ```
public struct TokensConfig: Sendable, Hashable {
    /// One trusted token issuer.
    public struct Issuer: Sendable, Hashable {
        /// Exact `iss` value expected in tokens.
        public var issuer: String
        /// Where the issuer's JWKS lives; when `nil`, discovered from the issuer (OIDC / RFC 8414).
        public var jwksURI: String?
        /// Allowed JWS algorithms (e.g. `RS256`, `ES256`, `EdDSA`). Never empty after compilation.
        public var algorithms: [String]
        /// Accepted audiences; when the policy gives none, the `resource.id`.
        public var audiences: [String]
        /// Claims to read scopes from; `nil` means the section-level default.
        public var scopeClaims: [String]?
        /// Roles claim mapped to scopes (e.g. Entra app roles).
        public var roles: RoleMapping?
        /// Prefixes stripped from granted strings before they are matched (e.g. `api://mcp-server/`).
        public var stripPrefixes: [String]
        /// RFC 7662 introspection for opaque tokens.
        public var introspection: Introspection?
        /// RFC 8693 token exchange at this issuer (for tools with `downstream:`).
        public var exchange: Exchange?
        /// Where this issuer was declared.
        public var location: SourceLocation

        public init(
            issuer: String, jwksURI: String? = nil, algorithms: [String], audiences: [String],
            scopeClaims: [String]? = nil, roles: RoleMapping? = nil, stripPrefixes: [String] = [],
            introspection: Introspection? = nil, exchange: Exchange? = nil, location: SourceLocation
        ) {
            self.issuer = issuer
            self.jwksURI = jwksURI
            self.algorithms = algorithms
            self.audiences = audiences
            self.scopeClaims = scopeClaims
            self.roles = roles
            self.stripPrefixes = stripPrefixes
            self.introspection = introspection
            self.exchange = exchange
            self.location = location
        }
    }

    /// `roles: { claim: roles, map: { Role: [scopes] } }`.
    public struct RoleMapping: Sendable, Hashable {
        public var claim: String
        public var map: [String: [String]]
        public init(claim: String, map: [String: [String]]) {
            self.claim = claim
            self.map = map
        }
    }

    /// RFC 7662 introspection settings. The secret is never in the policy: only the name of an environment variable.
    public struct Introspection: Sendable, Hashable {
        public var endpoint: String
        public var clientID: String
        public var clientSecretEnv: String
        public init(endpoint: String, clientID: String, clientSecretEnv: String) {
            self.endpoint = endpoint
            self.clientID = clientID
            self.clientSecretEnv = clientSecretEnv
        }
    }

    /// RFC 8693 token exchange settings (`exchange:` of an issuer). The secret is never in the policy: only the
    /// name of an environment variable.
    public struct Exchange: Sendable, Hashable {
        /// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
        public enum ClientAuthentication: String, Sendable, Hashable, CaseIterable {
            /// HTTP Basic with the form-encoded id and secret (the default).
            case basic = "client_secret_basic"
            /// `client_id` and `client_secret` in the form body.
            case post = "client_secret_post"
        }
        /// The token endpoint.
        public var endpoint: String
        public var clientID: String
        public var clientSecretEnv: String
        public var clientAuthentication: ClientAuthentication
        /// Which request parameter names the downstream API (RFC 8693 §2.1).
        public enum Target: String, Sendable, Hashable, CaseIterable {
            /// `audience=<downstream.audience>` (the default; Keycloak, Okta, Auth0).
            case audience
            /// `resource=<downstream.audience>` (an absolute URI, RFC 8707 style).
            case resource
            /// Both parameters with the same value.
            case both
        }
        public var target: Target
        /// The grant the token endpoint speaks.
        public enum Grant: String, Sendable, Hashable, CaseIterable {
            /// RFC 8693 token exchange (the default).
            case tokenExchange = "token_exchange"
            /// Microsoft Entra's on-behalf-of flow (a JWT bearer grant with `requested_token_use=on_behalf_of`).
            case onBehalfOf = "on_behalf_of"
        }
        public var grant: Grant
        /// The `subject_token_type` to send; nil: the RFC 8693 access-token type (Auth0 profiles need their own).
        public var subjectTokenType: String?
        public init(
            endpoint: String, clientID: String, clientSecretEnv: String,
            clientAuthentication: ClientAuthentication = .basic,
            target: Target = .audience, grant: Grant = .tokenExchange, subjectTokenType: String? = nil
        ) {
            self.endpoint = endpoint
            self.clientID = clientID
            self.clientSecretEnv = clientSecretEnv
            self.clientAuthentication = clientAuthentication
            self.target = target
            self.grant = grant
            self.subjectTokenType = subjectTokenType
        }
    }

    public var issuers: [Issuer]
    /// Clock skew tolerance for `exp`/`nbf`/`iat`, in seconds (default 60).
    public var leewaySeconds: Int
    /// Default scope claims (default `[scope, scp]`): every listed claim present is read and unioned.
    public var scopeClaims: [String]
    /// Required JWT `typ` header (e.g. `at+jwt`), if any.
    public var requireTyp: String?
    /// Where the section starts.
    public var location: SourceLocation?

    public init(
        issuers: [Issuer], leewaySeconds: Int = 60, scopeClaims: [String] = ["scope", "scp"],
        requireTyp: String? = nil, location: SourceLocation? = nil
    ) {
        self.issuers = issuers
        self.leewaySeconds = leewaySeconds
        self.scopeClaims = scopeClaims
        self.requireTyp = requireTyp
        self.location = location
    }
}
