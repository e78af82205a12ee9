import Foundation
import ScopeGate
import ScopeGateOperations
// The configuration and the verdicts speak its types (`ChallengeScopeStrategy`, `ProtocolSupport`,
// `AuthorizationVerdict`): importing ScopeGateMCP is enough to use them.
@_exported import ScopeGateRequestAuthorization
import ScopeGateTokens

/// HTTP requests go through the same request authorization as `scopegate proxy` and `scopegate authz`
/// (``RequestAuthorizer``: protocol revision, limits, JSON-RPC shape, header/body consistency, one decision
/// per message, the challenge) and are reported through the same ``DecisionReporter``.
extension MCPAuthorizer {
    /// The request authorizer for `snapshot` with this configuration's revisions, limits and challenge.
    ///
    /// ```swift
    /// let verdict = authorizer.requestAuthorizer().authorize(request, credential: .missing)
    /// print(verdict.status, verdict.wwwAuthenticate ?? "")   // 401 Bearer resource_metadata=…
    /// ```
    public func requestAuthorizer(_ snapshot: PolicySnapshot? = nil) -> RequestAuthorizer {
        let snapshot = snapshot ?? store.current
        return RequestAuthorizer(
            policy: snapshot.policy,
            settings: AuthorizationSettings(
                protocols: configuration.protocols,
                limits: RequestLimits(
                    maxBodyBytes: configuration.maxBodyBytes, maxBatch: configuration.maxBatchSize,
                    maxDepth: configuration.maxJSONDepth, maxHeaderBytes: configuration.maxHeaderBytes,
                    maxHeaderFields: configuration.maxHeaderFields),
                challengeScope: configuration.challengeScope,
                resourceMetadataURL: resourceMetadataURL(snapshot)))
    }

    /// Authorizes one HTTP request after authentication, then audits and counts its decisions.
    func authorize(
        _ request: MCPHTTPRequest, authentication: Authentication, snapshot: PolicySnapshot
    ) -> AuthorizationVerdict {
        let credential: Credential
        var token: VerifiedToken?
        switch authentication {
        case .authenticated(let caller):
            let caller = caller.resolved(against: snapshot.policy)
            credential = .granted(
                caller.grant, expiresAt: caller.token?.expiresAt, stripPrefixes: caller.stripPrefixes)
            token = caller.token
        case .missing:
            credential = .missing
        case .invalid(let error):
            credential = .invalid(error)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let verdict = requestAuthorizer(snapshot).authorize(request, credential: credential)
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        reporter.report(verdict, credential: credential, token: token, snapshot: snapshot, nanoseconds: elapsed)
        return verdict
    }
}
