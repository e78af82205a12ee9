import ScopeGate

/// How the `scope` of a 403 `insufficient_scope` challenge is chosen.
///
/// ```swift
/// var settings = AuthorizationSettings()
/// settings.challengeScope = .grantedPlusMissing     // `--challenge-scope granted-plus-missing`
/// ```
public enum ChallengeScopeStrategy: Sendable, Hashable {
    /// The scopes the operation needs (2026-07-28 authorization, "Scope Challenge Handling"): for every
    /// denied message the cheapest clause that satisfies it given the grant — all the clause's scopes, not
    /// only the missing ones — unioned into one challenge for the whole request. Default.
    case required
    /// The recognized granted scopes as sent plus the missing ones (2025-11-25's recommendation; clients that
    /// replace their scopes instead of adding still converge).
    case grantedPlusMissing
}

/// The decision on one JSON-RPC message.
///
/// ```swift
/// for decision in verdict.decisions where !decision.allowed {
///     print(decision.call?.name ?? "-", decision.reason, decision.missing)   // get_forecast missing_scope ["weather:read"]
/// }
/// ```
public struct MessageDecision: Sendable, Hashable {
    /// The message's id (nil for notifications).
    public var id: JSONValue?
    /// The call decided (nil for a client's JSON-RPC response, which needs only a valid token).
    public var call: Call?
    public var allowed: Bool
    /// The core's reason (`allowed`, `missing_scope`, `unknown_tool`, …) or `missing_header` (header-only
    /// decisions whose arguments arrived without their `Mcp-Param-*` header).
    public var reason: String
    /// The missing scopes (the cheapest completion), on `missing_scope`.
    public var missing: [String]
    /// The scopes the operation needs, on `missing_scope` (see ``ChallengeScopeStrategy/required``).
    public var required: [String]
    /// The location of the deciding rule, if a rule decided.
    public var ruleLocation: SourceLocation?
    /// The `Mcp-Param-*` headers a header-only decision lacked.
    public var missingHeaders: [String]
    /// The core's decision, when the policy was consulted.
    public var decision: Decision?
    /// Denied by the policy in shadow mode: let through and reported (`"would_deny": true` in the audit), never
    /// refused. ``allowed`` stays the policy's answer.
    public var shadowed = false

    /// Whether the request is refused for this decision: denied, and not let through by shadow mode.
    public var refuses: Bool { !allowed && !shadowed }

    /// ``ruleLocation`` as `file:line:column`: rendered when asked (a denial's data, an audit event), not for
    /// every decision.
    public var rule: String? { ruleLocation?.description }

    /// The JSON-RPC `error.data` of a denial: `{reason, missing, required, rule}` (+ `headers` when
    /// `missing_header`).
    public var errorData: JSONValue {
        var object: [String: JSONValue] = [
            "reason": .string(reason), "missing": .array(missing.map(JSONValue.string)),
            "required": .array(required.map(JSONValue.string)), "rule": rule.map(JSONValue.string) ?? .null,
        ]
        if !missingHeaders.isEmpty { object["headers"] = .array(missingHeaders.map(JSONValue.string)) }
        return .object(object)
    }

    /// The JSON-RPC error of a denial (ScopeGate's -32003 `forbidden`).
    public var error: JSONRPCError {
        let subject = call.map { $0.name.isEmpty ? $0.method : $0.name } ?? "response"
        let text: String
        switch reason {
        case "missing_scope":
            text = "insufficient_scope: `\(subject.prefix(64))` needs " + missing.joined(separator: " ")
        case "missing_header":
            text =
                "forbidden: `\(subject.prefix(64))` is decided on headers it lacks: "
                + missingHeaders.joined(separator: ", ")
        default: text = "forbidden: `\(subject.prefix(64))`: \(reason)"
        }
        return JSONRPCError(code: ScopeGateErrorCode.forbidden, message: text, data: errorData)
    }
}

/// ScopeGate's own JSON-RPC error codes, all within -32000…-32019 (-32020 and beyond are the specification's).
///
/// ```swift
/// let failure = JSONRPCError(code: ScopeGateErrorCode.upstreamUnavailable, message: "the upstream did not answer")
/// ```
public enum ScopeGateErrorCode {
    /// No bearer token, or one that failed verification (HTTP 401).
    public static let unauthorized = -32001
    /// A valid token that may not make the call (HTTP 403): `data.reason` says why.
    public static let forbidden = -32003
    /// A proxy could not reach the upstream server or read its answer (HTTP 502).
    public static let upstreamUnavailable = -32004
}

/// The answer for one HTTP request: forward it, or answer with ``status``, ``wwwAuthenticate`` and ``body``.
///
/// ```swift
/// let verdict = authorizer.authorize(request, credential: credential)
/// if verdict.outcome == .allow { /* forward; remember verdict.listRequests for the response */ }
/// else { /* answer verdict.status, verdict.wwwAuthenticate, verdict.body */ }
/// ```
public struct AuthorizationVerdict: Sendable {
    public enum Outcome: Sendable, Hashable {
        /// Forward the request.
        case allow
        /// Malformed, oversized, unsupported or inconsistent (400, 405 or 413): ``rejection`` says why.
        case reject
        /// No or invalid token (401).
        case unauthorized
        /// Denied by the policy (403).
        case forbidden
    }

    public var outcome: Outcome
    /// The HTTP status to answer (200 when allowed: the upstream's status applies).
    public var status: Int
    /// The `WWW-Authenticate` header value of a 401 or 403 with a step-up.
    public var wwwAuthenticate: String?
    /// The JSON-RPC error response (a batch of them for a batch), UTF-8 JSON; nil when allowed, and for a
    /// refusal without any request to answer.
    public var body: [UInt8]?
    /// The protocol revision the request speaks (nil for an `initialize` without `MCP-Protocol-Version`).
    public var revision: ProtocolRevision?
    /// One decision per JSON-RPC message, in body order.
    public var decisions: [MessageDecision]
    /// The rejection behind a `reject` outcome.
    public var rejection: RequestRejection?
    /// The requests whose responses are list results to filter: request id → list method.
    public var listRequests: [JSONValue: ListMethod]
    /// The error of a refusal (the first of ``body``'s errors): for front ends whose response type carries one
    /// JSON-RPC error and no `id` (the Swift SDK's `HTTPResponse`). Nil when allowed.
    public var error: JSONRPCError? = nil

    public var allowed: Bool { outcome == .allow }

    /// Allowed only because shadow mode let a denial through: some message is ``MessageDecision/shadowed``.
    public var wouldDeny: Bool { outcome == .allow && decisions.contains { $0.shadowed } }
}
