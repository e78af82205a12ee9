import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

// RFC 8693 token exchange for tools with `downstream:`: the MCP spec forbids passing the client's token through to
// other APIs, so the server exchanges it for a token of the downstream API's own audience and scopes, and the tool
// handler gets only that token.
extension MCPAuthorizer {
    /// The `downstream:` settings of the tool rule that `tool` resolves to, if it has any.
    public func downstream(forTool tool: String, snapshot: PolicySnapshot? = nil) -> DownstreamExchange? {
        let policy = (snapshot ?? store.current).policy
        guard let index = policy.toolRuleIndex(for: tool) else { return nil }
        return policy.model.tools[index].downstream
    }

    /// Exchanges the caller's token (`subjectToken`) for a token to the tool's downstream API and writes one audit
    /// event for the exchange (issuer, audience, scopes, the issued token's `jti` or the error; never a token).
    ///
    /// The exchange happens at `downstream.issuer`, else at the caller's token's issuer. Call it only for an
    /// allowed call of a tool with `downstream:` (``downstream(forTool:snapshot:)``).
    public func exchange(
        _ downstream: DownstreamExchange, for call: Call, caller: Caller, subjectToken: String?,
        snapshot: PolicySnapshot? = nil
    ) async -> Result<DownstreamToken, TokenExchangeError> {
        let snapshot = snapshot ?? store.current
        let issuer = downstream.issuer ?? caller.token?.issuer
        let tokens = configuration.tokens ?? snapshot.policy.model.tokens
        let result = await exchangers.exchange(
            downstream, tokens: tokens, subjectToken: subjectToken, callerIssuer: caller.token?.issuer,
            subjectExpiresAt: caller.token?.expiresAt)
        switch result {
        case .success(let token): metrics.exchanged(result: token.cached ? "cached" : "issued")
        case .failure(let error):
            metrics.exchanged(result: error.code.id)
            configuration.logger.info(
                "token exchange failed", metadata: ["code": "\(error.code.id)", "audience": "\(downstream.audience)"])
        }
        auditExchange(downstream, issuer: issuer, result: result, call: call, caller: caller, snapshot: snapshot)
        return result
    }

    func auditExchange(
        _ downstream: DownstreamExchange, issuer: String?, result: Result<DownstreamToken, TokenExchangeError>,
        call: Call, caller: Caller, snapshot: PolicySnapshot
    ) {
        guard configuration.auditSink != nil || configuration.auditLogger.logLevel <= .info else { return }
        let policy = snapshot.policy
        let caller = caller.resolved(against: policy)
        var record = DownstreamAudit(
            issuer: issuer, audience: downstream.audience, scopes: downstream.scopes,
            grantedScopes: [], tokenID: nil, cached: false, error: nil)
        let allowed: Bool
        switch result {
        case .success(let token):
            record.grantedScopes = token.scopes
            record.tokenID = token.tokenID
            record.cached = token.cached
            allowed = true
        case .failure(let error):
            record.error = error.code.id
            allowed = false
        }
        let logged = Set(policy.model.audit.arguments)
        var arguments: [String: JSONValue] = [:]
        for (k, v) in call.arguments { arguments[k] = logged.contains(k) ? v : .string("[redacted]") }
        let index = policy.toolRuleIndex(for: call.name)
        let rule = index.map { policy.model.tools[$0].location.description }
        var action: String?
        if let index, let argument = policy.model.tools[index].actionArgument,
            case .string(let a)? = call.arguments[argument]
        {
            action = a
        }
        var event = AuditEvent(
            time: configuration.clock.now(), clientID: caller.clientID, subject: caller.subject,
            tokenID: caller.tokenID, method: call.method, tool: call.name.isEmpty ? nil : call.name,
            action: action, arguments: arguments, granted: caller.grant.granted, allowed: allowed,
            reason: allowed ? "token_exchanged" : "token_exchange_failed", required: [], missing: [],
            rule: rule, policyVersion: snapshot.version)
        event.downstream = record
        configuration.auditLogger.info("\(event.json)")
        configuration.auditSink?(event)
    }
}
