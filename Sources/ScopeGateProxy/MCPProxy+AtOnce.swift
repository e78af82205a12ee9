import Hummingbird
import NIOCore
import NIOHTTP1
import ScopeGateOperations
import ScopeGateRequestAuthorization

extension MCPProxy {
    /// Answers a `POST` to the endpoint without a task, on the client connection's event loop `loop`, when
    /// nothing on its way needs waiting: the upstream is plain HTTP (``HTTP1Upstream``, whose exchange starts on
    /// `loop`), the token is in the verified-token cache (``authenticateAtOnce``), and no tool of the policy has
    /// `downstream:` (a token exchange). It takes the same steps as ``handle(_:)``
    /// (``decide(_:headers:body:credential:snapshot:)``, ``admit(_:)``, ``relay(_:_:)``), so the answer is the same.
    /// `head` is SwiftNIO's, as the connection handler reads it before Hummingbird's pipeline converts it to
    /// `HTTPTypes`, and it is never converted: its fields are read as that conversion would give them (the first
    /// `Host` is the authority, not a field; values without surrounding whitespace). Returns false, having done
    /// nothing, when it cannot; else `reply` is called once, on `loop`, with the answer.
    func answerAtOnce(
        _ head: HTTPRequestHead, body: ByteBuffer, on loop: any EventLoop,
        reply: @escaping @Sendable (ProxyAnswer) -> Void
    ) -> Bool {
        guard head.method == .POST, configuration.upstreamCommand == nil, let atOnce = authenticateAtOnce,
            let plain = plainUpstream
        else { return false }
        let snapshot = store.current
        let policy = snapshot.policy
        let target = head.uri
        // Bytes, not `Character`s: a character is found by grapheme breaking, hundreds of instructions each.
        let query = target.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
        let path = target[..<(query ?? target.endIndex)]
        let endpoint = endpoint(for: policy)
        // An endpoint that an operations or metadata path could shadow is left to `handle`, which checks those first.
        guard path == endpoint, !OperationsEndpoints.paths.contains(endpoint), !endpoint.hasPrefix("/.well-known/"),
            !hasDownstreamTools(policy),
            body.readableBytes <= configuration.authorization.limits.maxBodyBytes
        else { return false }
        // The fields once, as the steps read them several times, and as the conversion would give them: values
        // without the whitespace around them that SwiftNIO's decoder leaves at the end.
        var authority: String?
        var fields: [(String, String)] = []
        fields.reserveCapacity(head.headers.count)
        for (name, value) in head.headers {
            if authority == nil, ASCIICase.equals(name, "host") {
                authority = ProxyHeaders.trimmed(value)
            } else {
                fields.append((name, ProxyHeaders.trimmed(value)))
            }
        }
        if let refusal = headRefusal(
            method: head.method.rawValue, target: target, authority: authority, fields: fields, toEndpoint: true)
        {
            reply(refusal)
            return true
        }
        let headers = MCPRequestHeaders(fields)
        guard let (credential, token) = atOnce(headers.authorization, policy) else { return false }
        switch decide(.post, headers: headers, body: body, credential: credential, snapshot: snapshot) {
        case .answer(let answer):
            reply(answer)
        case .forward(let filter, let requestIDs):
            var forwarding = Forwarding(
                method: .post, sessionID: fields.first { ASCIICase.equals($0.0, "mcp-session-id") }?.1,
                principal: Self.principal(of: identify == nil ? nil : token), filter: filter,
                requestIDs: requestIDs, mayStream: Self.mayStream(method: .post, fields: fields, requestIDs: requestIDs)
            )
            if let refusal = admit(&forwarding) {
                reply(refusal.answer)
                return true
            }
            let admitted = forwarding
            // The reply comes on `loop`: the exchange uses a connection of that loop.
            plain.send(
                method: .POST, fields: fields, body: body, authorization: configuration.upstreamAuthorization, on: loop
            ) { result in
                var forwarding = admitted
                switch result {
                case .success(let response): reply(self.relay(response, &forwarding))
                case .failure(let error): reply(self.failed(plain.failure(error)))
                }
            }
        }
        return true
    }
}
