import Foundation

/// The audit event (`"v": 1`, defined in docs/records.md): one per decision. Never contains the token; argument values are
/// redacted unless the policy's `audit.arguments` lists them. `scopegate suggest` reads exactly this.
///
/// ```swift
/// let event = AuditEvent(
///     decision: decision, record: record, call: call, grant: grant, policy: policy,
///     policyVersion: snapshot.version, time: Date(), clientID: "climate-bot")
/// log.info("\(event.json)")
/// ```
public struct AuditEvent: Sendable, Hashable {
    public var time: Date
    public var clientID: String?
    public var subject: String?
    public var tokenID: String?
    public var method: String
    public var tool: String?
    public var action: String?
    /// Argument values, already redacted (`"[redacted]"`).
    public var arguments: [String: JSONValue]
    public var granted: [String]
    public var allowed: Bool
    public var reason: String
    /// The applied clause (allow) or the cheapest clause (deny).
    public var required: [String]
    public var missing: [String]
    public var rule: String?
    public var policyVersion: String
    /// The RFC 8693 exchange a downstream tool made (audience, scopes, issued token's `jti`; never a token).
    /// Set on the event the MCP layer writes for the exchange; nil on decision events.
    public var downstream: DownstreamAudit?
    /// A denial (`allowed: false`) that shadow mode let through: written `"would_deny": true`, and left out of
    /// the line when false.
    public var wouldDeny = false

    public init(
        time: Date, clientID: String?, subject: String?, tokenID: String?, method: String, tool: String?,
        action: String?, arguments: [String: JSONValue], granted: [String], allowed: Bool, reason: String,
        required: [String], missing: [String], rule: String?, policyVersion: String
    ) {
        self.time = time
        self.clientID = clientID
        self.subject = subject
        self.tokenID = tokenID
        self.method = method
        self.tool = tool
        self.action = action
        self.arguments = arguments
        self.granted = granted
        self.allowed = allowed
        self.reason = reason
        self.required = required
        self.missing = missing
        self.rule = rule
        self.policyVersion = policyVersion
    }

    /// Builds the event for a decision, redacting arguments not listed in the policy's `audit.arguments`.
    public init(
        decision: Decision, record: DecisionRecord, call: Call, grant: Grant, policy: CompiledPolicy,
        policyVersion: String, time: Date, clientID: String?, subject: String? = nil, tokenID: String? = nil
    ) {
        let logged = Set(policy.model.audit.arguments)
        var arguments: [String: JSONValue] = [:]
        for (k, v) in call.arguments { arguments[k] = logged.contains(k) ? v : .string("[redacted]") }
        var action: String?
        if call.method == "tools/call", let index = policy.toolRuleIndex(for: call.name),
            let argument = policy.model.tools[index].actionArgument, case .string(let a)? = call.arguments[argument]
        {
            action = a
        }
        self.init(
            time: time, clientID: clientID, subject: subject, tokenID: tokenID, method: call.method,
            tool: call.name.isEmpty ? nil : call.name, action: action, arguments: arguments, granted: grant.granted,
            allowed: decision.allowed, reason: decision.reason.rawValue, required: record.clause,
            missing: record.missing, rule: record.rule, policyVersion: policyVersion)
    }

    static let timeFormat: Date.ISO8601FormatStyle = .iso8601.year().month().day().time(
        includingFractionalSeconds: true
    )
    .dateSeparator(.dash).timeSeparator(.colon)

    /// One JSON line (no trailing newline).
    public var json: String {
        func opt(_ s: String?) -> String { s.map(JSONText.quote) ?? "null" }
        var out = "{\"v\":1,\"time\":\(JSONText.quote(time.formatted(Self.timeFormat)))"
        out += ",\"client_id\":\(opt(clientID)),\"sub\":\(opt(subject)),\"jti\":\(opt(tokenID))"
        out += ",\"method\":\(JSONText.quote(method)),\"tool\":\(opt(tool)),\"action\":\(opt(action))"
        out += ",\"arguments\":" + JSONValue.object(arguments).jsonText
        out += ",\"granted\":" + JSONText.array(granted)
        out += ",\"allowed\":\(allowed),\"reason\":\(JSONText.quote(reason))"
        out += ",\"required\":" + JSONText.array(required) + ",\"missing\":" + JSONText.array(missing)
        out += ",\"rule\":\(opt(rule)),\"policy_version\":\(JSONText.quote(policyVersion))"
        if wouldDeny { out += ",\"would_deny\":true" }
        if let downstream {
            out +=
                ",\"downstream\":{\"issuer\":\(opt(downstream.issuer)),\"audience\":\(JSONText.quote(downstream.audience))"
            out += ",\"scopes\":" + JSONText.array(downstream.scopes)
            out += ",\"granted_scopes\":" + JSONText.array(downstream.grantedScopes)
            out +=
                ",\"jti\":\(opt(downstream.tokenID)),\"cached\":\(downstream.cached),\"error\":\(opt(downstream.error))}"
        }
        return out + "}"
    }
}

/// What an audit event records of a downstream token exchange (RFC 8693). Never a token.
///
/// ```swift
/// event.downstream = DownstreamAudit(
///     issuer: "https://auth.example.com", audience: "https://reports.example.com", scopes: ["reports:read"],
///     grantedScopes: ["reports:read"], tokenID: nil, cached: false, error: nil)
/// ```
public struct DownstreamAudit: Sendable, Hashable {
    /// The issuer exchanged at.
    public var issuer: String?
    /// The requested audience (the downstream API).
    public var audience: String
    /// The requested scopes.
    public var scopes: [String]
    /// The scopes of the issued token (the response's `scope`, else the requested ones); empty on failure.
    public var grantedScopes: [String]
    /// The issued token's `jti`, when it is a JWT that carries one.
    public var tokenID: String?
    /// Whether the issued token came from the exchange cache.
    public var cached: Bool
    /// The error code when the exchange failed (e.g. `downstream.invalid_target`).
    public var error: String?

    /// Creates the record.
    public init(
        issuer: String?, audience: String, scopes: [String], grantedScopes: [String], tokenID: String?,
        cached: Bool, error: String?
    ) {
        self.issuer = issuer
        self.audience = audience
        self.scopes = scopes
        self.grantedScopes = grantedScopes
        self.tokenID = tokenID
        self.cached = cached
        self.error = error
    }
}
