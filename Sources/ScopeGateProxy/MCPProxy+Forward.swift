import Hummingbird
import NIOCore
import NIOHTTP1
import ScopeGate
import ScopeGateRequestAuthorization

// Forwarding an authorized request: the session and stream slot checked and taken before it goes upstream
// (`admit`), the upstream's answer turned into the client's (`relay`). Both steps wait for nothing, so the
// connection handler that answers on the event loop (`ProxyConnectionHandler`) runs them too; what waits (the
// principal, a token exchange, the upstream) happens in between.
extension MCPProxy {
    /// One request on its way through the proxy: what `admit` found and `relay` needs.
    struct Forwarding: Sendable {
        let method: HTTPRequest.Method
        let sessionID: String?
        /// Who is asking (``MCPProxy/principal(of:)``); found before `relay` whenever it needs it.
        var principal: String
        let filter: ListFilter?
        /// The ids of the request's calls, answered with an error each when a stream breaks off.
        let requestIDs: [JSONValue]
        var slot: StreamSlot?
        let mayStream: Bool
    }

    /// Sends the request upstream and returns the answer (``admit(_:)``, ``relay(_:_:)``). The
    /// principal costs a token-cache lookup: only when a session, a stdio bridge, an exchange or a stream slot
    /// (counted per principal) needs it.
    func forward(
        _ method: HTTPRequest.Method, fields: HTTPFields, body: ByteBuffer, filter: ListFilter?,
        requestIDs: [JSONValue]
    ) async -> ProxyAnswer {
        let policy = store.current.policy
        let authorization = fields[.authorization]
        let sessionID = fields[ProxyHeaders.sessionID]
        let exchanges = configuration.upstreamCommand == nil && hasDownstreamTools(policy)
        let mayStream = Self.mayStream(
            method: method, fields: fields.lazy.map { ($0.name.rawName, $0.value) }, requestIDs: requestIDs)
        let identified = sessionID != nil || configuration.upstreamCommand != nil || exchanges || mayStream
        let identity = identified ? await identify?(authorization, policy) : nil
        var forwarding = Forwarding(
            method: method, sessionID: sessionID, principal: Self.principal(of: identity), filter: filter,
            requestIDs: requestIDs, mayStream: mayStream)
        if let refusal = admit(&forwarding) { return refusal.answer }
        var outgoing = upstreamRequest(forwarding, fields: fields, body: body)
        if exchanges {
            switch await downstreamCredential(body, policy: policy, authorization: authorization, identity: identity) {
            case .none: break
            case .token(let value): outgoing.authorization = value
            case .refused(let answer): return answer
            }
        }
        let response: UpstreamResponse
        do throws(UpstreamFailure) {
            response = try await upstream.send(outgoing)
        } catch {
            return failed(error)
        }
        if !identified, forwarding.needsPrincipal(for: response) {
            forwarding.principal = Self.principal(of: await identify?(authorization, policy))
        }
        return relay(response, &forwarding)
    }

    /// A request the proxy answers itself instead of forwarding.
    struct Refusal: Error {
        let answer: ProxyAnswer
    }

    /// Admits a request to be forwarded: its session is checked against the principal (404 when it is another's
    /// or unknown, never forwarded) and a stream slot is taken when the answer may be a stream. Nil when admitted;
    /// the request then goes upstream with the static upstream credential (``upstreamRequest(_:fields:body:)``),
    /// unless a token exchange replaces it.
    func admit(_ forwarding: inout Forwarding) -> Refusal? {
        if let sessionID = forwarding.sessionID, !sessions.use(sessionID, by: forwarding.principal) {
            logger.notice("refused a session bound to another principal or unknown")
            let failure = JSONRPCError(code: ScopeGateErrorCode.sessionNotFound, message: "session not found")
            return Refusal(answer: .json(404, failure.response(id: nil)))
        }
        if forwarding.mayStream {
            switch streams.acquire(principal: forwarding.principal) {
            case .success(let taken): forwarding.slot = taken
            case .failure(let refusal): return Refusal(answer: Self.refused(refusal, logger: logger))
            }
        }
        return nil
    }

    /// The request to send upstream for an admitted `forwarding`, with the static upstream credential.
    func upstreamRequest(_ forwarding: Forwarding, fields: HTTPFields, body: ByteBuffer) -> UpstreamRequest {
        UpstreamRequest(
            method: forwarding.method.rawValue, headers: fields, body: body,
            authorization: configuration.upstreamAuthorization, principal: forwarding.principal)
    }

    /// The answer to a request the upstream did not answer: 504 when it timed out, else 502.
    func failed(_ error: UpstreamFailure) -> ProxyAnswer {
        operations.metrics.upstreamError(kind: error.code == .timeout ? "timeout" : "unreachable")
        logger.warning("upstream failed", metadata: ["error": "\(error.code)"])
        return .upstreamUnavailable(error.message, status: error.code == .timeout ? 504 : 502)
    }

    /// The client's answer from the upstream's: a session the upstream issued bound to the principal, the stream
    /// slot released or taken, list answers filtered (a list answer that cannot be filtered is never passed on), an
    /// event stream relayed as it arrives (one the upstream breaks off ends with an error for each request id,
    /// ``relayEvents(_:filter:requestIDs:to:)``). Needs `forwarding.principal` when
    /// ``Forwarding/needsPrincipal(for:)``.
    func relay(_ response: UpstreamResponse, _ forwarding: inout Forwarding) -> ProxyAnswer {
        if response.status == 401 {
            // The upstream refused the proxy's own credential (none, static or exchanged). The client's token
            // cannot fix that, and the upstream's challenge names the upstream's authorization, not the proxy's:
            // passed on, it would send the client to get a token the proxy does not accept.
            operations.metrics.upstreamError(kind: "unauthorized")
            logger.warning("the upstream refused the proxy's credential (401)")
            return .upstreamUnavailable(
                "the upstream refused the proxy's credential", reason: "upstream_unauthorized")
        }
        if (200..<300).contains(response.status) {
            if let issued = forwarding.issuedSession(response) {
                guard sessions.bind(issued, to: forwarding.principal) else {
                    logger.warning("the upstream issued a session id already bound to another principal")
                    return .upstreamUnavailable("the upstream reused a session id")
                }
            }
            if forwarding.method == .delete, let sessionID = forwarding.sessionID {
                sessions.remove(sessionID, by: forwarding.principal)
            }
        }
        operations.readiness.set("upstream")
        let contentType = response.headers.first(name: "content-type")
        let isStream = ProxyHeaders.isMediaType(contentType, "text/event-stream")
        if !isStream {
            forwarding.slot?.release()
        } else if forwarding.slot == nil {
            // An event stream to a request that did not announce one (no `Accept: text/event-stream`): it takes
            // a slot now, and when none is free nothing of it goes to the client.
            switch streams.acquire(principal: forwarding.principal) {
            case .success(let taken): forwarding.slot = taken
            case .failure(let refusal): return Self.refused(refusal, logger: logger)
            }
        }
        // A list answer is read to be filtered: only JSON or SSE, and only as plain bytes (the proxy asks for no
        // content coding, ``ProxyHeaders``, but an upstream may apply one anyway).
        let filter = forwarding.filter
        let readable = ProxyHeaders.isIdentity(contentEncoding: response.headers["content-encoding"])
        let rewrites =
            filter != nil && readable && (isStream || ProxyHeaders.isMediaType(contentType, "application/json"))
        var fields = ProxyHeaders.downstream(response.headers, dropLength: rewrites || isStream)
        if isStream { fields.add(name: ProxyHeaders.noBuffering.name, value: ProxyHeaders.noBuffering.value) }
        let upstreamBody = response.body
        if filter != nil, !rewrites {
            operations.metrics.upstreamError(kind: "unfilterable")
            logger.warning(
                "upstream answered a list request with content type \(contentType ?? "")\(readable ? "" : ", encoded")")
            return .upstreamUnavailable(
                "the upstream answered a list request with a content type or coding that cannot be filtered")
        }
        if isStream {
            let (metrics, logger, slot, requestIDs) = (
                operations.metrics, logger, forwarding.slot, forwarding.requestIDs
            )
            let body = ResponseBody { writer in
                defer { slot?.release() }
                let ended = try await Self.relayEvents(
                    upstreamBody, filter: filter, requestIDs: requestIDs, to: &writer)
                if !ended {
                    metrics.upstreamError(kind: "stream_broken")
                    logger.warning("the upstream broke off a stream")
                }
                try await writer.finish(nil)
            }
            return ProxyAnswer(status: response.status, fields: fields, body: .streamed(body))
        }
        switch (upstreamBody, filter) {
        case (.bytes(let whole), nil):
            return ProxyAnswer(status: response.status, fields: fields, body: .whole(whole))
        case (.bytes(let whole), let filter?):
            let filtered = ByteBuffer(bytes: filter.filterBody(Array(buffer: whole)))
            return ProxyAnswer(status: response.status, fields: fields, body: .whole(filtered))
        case (_, let filter?):
            return ProxyAnswer(status: response.status, fields: fields, body: .filtered(upstreamBody, filter))
        case (_, nil):
            let body = ResponseBody { writer in
                for try await chunk in upstreamBody { try await writer.write(chunk) }
                try await writer.finish(nil)
            }
            return ProxyAnswer(status: response.status, fields: fields, body: .streamed(body))
        }
    }
}

extension MCPProxy.Forwarding {
    /// The session id a successful answer issues, when it is new.
    func issuedSession(_ response: UpstreamResponse) -> String? {
        guard (200..<300).contains(response.status), let issued = response.headers.first(name: "mcp-session-id"),
            issued != sessionID
        else { return nil }
        return issued
    }

    /// Whether relaying `response` needs the principal: to bind a session it issues, or to take a stream slot for
    /// an event stream nobody announced.
    func needsPrincipal(for response: UpstreamResponse) -> Bool {
        if response.status == 401 { return false }
        if issuedSession(response) != nil { return true }
        return slot == nil
            && ProxyHeaders.isMediaType(response.headers.first(name: "content-type"), "text/event-stream")
    }
}
