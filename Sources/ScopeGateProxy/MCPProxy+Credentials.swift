import Foundation
import Hummingbird
import NIOCore
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

// What an HTTP upstream is given instead of the client's token (which it never gets: the specification forbids
// token passthrough, and the upstream is not the token's audience): nothing, the static credential of
// `ProxyConfiguration.upstreamAuthorization`, or, for a `tools/call` of a tool with `downstream:`, a token
// obtained by RFC 8693 exchange of the client's token for the downstream audience and scopes.
extension MCPProxy {
    enum UpstreamCredential {
        /// No `downstream:` tool is called: the static credential (or none) applies.
        case none
        /// The `Authorization` value of the exchanged token.
        case token(String)
        /// The request cannot be sent: answer this.
        case refused(ProxyAnswer)
    }

    /// The exchanged credential the request needs, if it calls a tool with `downstream:` (call it only when
    /// ``hasDownstreamTools(_:)``). A request (a batch)
    /// calling tools with different `downstream:` settings is refused (400): one request carries one
    /// `Authorization`. A failed exchange is answered 502 with JSON-RPC error -32004 and
    /// `data: {"reason": "token_exchange_failed", "code": "exchange.…"}`.
    func downstreamCredential(
        _ body: ByteBuffer, policy: CompiledPolicy, authorization: String?, identity: VerifiedToken?
    ) async -> UpstreamCredential {
        guard body.readableBytes > 0,
            let parsed = try? JSONRPCBody.parse(
                Array(buffer: body), limits: configuration.authorization.limits)
        else { return .none }
        var needed: DownstreamExchange?
        for message in parsed.messages where message.kind == .request && message.method == "tools/call" {
            guard case .string(let name)? = message.param(named: "name"), let index = policy.toolRuleIndex(for: name),
                let downstream = policy.model.tools[index].downstream
            else { continue }
            if let needed,
                (needed.audience, needed.scopes, needed.issuer) != (
                    downstream.audience, downstream.scopes, downstream.issuer
                )
            {
                let rejection = RequestRejection(
                    .invalidRequest, "a batch calls tools that need different upstream credentials; send them apart")
                return .refused(ProxyAnswer.json(400, rejection.responseBody()))
            }
            needed = downstream
        }
        guard let needed else { return .none }
        let result = await exchangers.exchange(
            needed, tokens: policy.model.tokens, subjectToken: BearerChallenge.token(fromAuthorization: authorization),
            callerIssuer: identity?.issuer, subjectExpiresAt: identity?.expiresAt)
        switch result {
        case .success(let token):
            return .token(token.authorizationHeaderValue)
        case .failure(let error):
            logger.warning(
                "token exchange failed", metadata: ["code": "\(error.code.id)", "audience": "\(needed.audience)"])
            let failure = JSONRPCError(
                code: ScopeGateErrorCode.upstreamUnavailable,
                message: "cannot get a token for `\(BearerChallenge.safe(needed.audience))`: \(error.message)",
                data: .object(["reason": .string("token_exchange_failed"), "code": .string(error.code.id)]))
            return .refused(ProxyAnswer.json(502, failure.response(id: nil)))
        }
    }

    /// Whether any tool rule of `policy` has `downstream:` (remembered per policy content, so a request to a
    /// proxy whose policy has none parses nothing more).
    func hasDownstreamTools(_ policy: CompiledPolicy) -> Bool {
        let hash = policy.model.contentHash
        if let known = downstreamTools.withLock({ $0 }), known.hash == hash { return known.found }
        let found = policy.model.tools.contains { $0.downstream != nil }
        downstreamTools.withLock { $0 = (hash, found) }
        return found
    }
}

extension ScopeGateErrorCode {
    /// A request named a 2025-xx session that is unknown, expired, or bound to another principal (HTTP 404, the
    /// specification's answer to a session it does not know; the same answer for all three, so a probe learns
    /// nothing about other principals' sessions).
    public static let sessionNotFound = -32005
}

extension ProxyHeaders {
    /// `Mcp-Session-Id` (a constant valid token, so the initializer cannot return nil).
    static let sessionID = HTTPFields.Element.Name("Mcp-Session-Id")!
}
