import Hummingbird
import NIOCore
import ScopeGateOperations
import ScopeGateRequestAuthorization

extension MCPProxy {
    /// Answers a `POST` to the endpoint without a task, on the client connection's event loop `loop`, when
    /// nothing on its way needs waiting: the upstream is plain HTTP (``HTTP1Upstream``, whose exchange starts on
    /// `loop`), the token is in the verified-token cache (``authenticateAtOnce``), and no tool of the policy has
    /// `downstream:` (a token exchange). It takes the same steps as ``handle(_:)`` (``decide(_:headers:body:credential:snapshot:)``,
    /// ``admit(_:fields:body:)``, ``relay(_:_:)``), so the answer is the same. Returns false, having done nothing,
    /// when it cannot; else `reply` is called once, on `loop`, with the answer.
    func answerAtOnce(
        _ head: HTTPRequest, body: ByteBuffer, on loop: any EventLoop,
        reply: @escaping @Sendable (ProxyAnswer) -> Void
    ) -> Bool {
        guard head.method == .post, configuration.upstreamCommand == nil, let atOnce = authenticateAtOnce,
            let plain = upstream as? HTTP1Upstream, let target = head.path
        else { return false }
        let snapshot = store.current
        let policy = snapshot.policy
        let path = target.prefix { $0 != "?" && $0 != "#" }
        let endpoint = endpoint(for: policy)
        // An endpoint that an operations or metadata path could shadow is left to `handle`, which checks those first.
        guard path == endpoint, !OperationsEndpoints.paths.contains(endpoint), !endpoint.hasPrefix("/.well-known/"),
            !hasDownstreamTools(policy),
            body.readableBytes <= configuration.authorization.limits.maxBodyBytes
        else { return false }
        if let refusal = headRefusal(head, toEndpoint: true) {
            reply(refusal)
            return true
        }
        let headers = MCPRequestHeaders(head.headerFields.map { ($0.name.rawName, $0.value) })
        guard let (credential, token) = atOnce(headers.authorization, policy) else { return false }
        switch decide(.post, headers: headers, body: body, credential: credential, snapshot: snapshot) {
        case .answer(let answer):
            reply(answer)
        case .forward(let filter, let requestIDs):
            let fields = head.headerFields
            var forwarding = Forwarding(
                method: .post, sessionID: fields[ProxyHeaders.sessionID],
                principal: Self.principal(of: identify == nil ? nil : token), filter: filter,
                requestIDs: requestIDs, mayStream: Self.mayStream(method: .post, fields: fields, requestIDs: requestIDs)
            )
            let outgoing: UpstreamRequest
            switch admit(&forwarding, fields: fields, body: body) {
            case .success(let admitted): outgoing = admitted
            case .failure(let refusal):
                reply(refusal.answer)
                return true
            }
            let admitted = forwarding
            plain.send(outgoing, on: loop).hop(to: loop).whenComplete { result in
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
