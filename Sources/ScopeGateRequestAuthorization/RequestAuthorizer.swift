import Foundation
import ScopeGate
import ScopeGateTokens

/// An MCP HTTP request as authorization sees it: the HTTP method, the headers of interest and the body.
///
/// ```swift
/// let request = MCPHTTPRequest(method: "POST", headers: MCPRequestHeaders(fields), body: bodyBytes)
/// let verdict = RequestAuthorizer(policy: policy).authorize(request, credential: credential)
/// ```
public struct MCPHTTPRequest: Sendable {
    /// `POST`, `GET`, `DELETE`, … (any case).
    public var method: String
    public var headers: MCPRequestHeaders
    /// The body bytes; nil or empty when there is none.
    public var body: [UInt8]?

    public init(method: String, headers: MCPRequestHeaders, body: [UInt8]? = nil) {
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// The settings of a ``RequestAuthorizer``.
///
/// ```swift
/// var settings = AuthorizationSettings(challengeScope: .required)
/// settings.mode = .shadow                           // `--mode shadow`: decide everything, let everything through
/// let authorizer = RequestAuthorizer(policy: policy, settings: settings)
/// ```
public struct AuthorizationSettings: Sendable {
    public var protocols: ProtocolSupport
    public var limits: RequestLimits
    public var challengeScope: ChallengeScopeStrategy
    /// The Protected Resource Metadata URL for challenges; default: derived from the policy's `resource.id`.
    public var resourceMetadataURL: String?
    /// `x-mcp-header` annotations learned from the server's `tools/list`.
    public var parameterHeaders: ParameterHeaders
    /// Overrides the policy's `mode:` (top level and per tool) for every decision (`--mode`); nil: the policy's
    /// own modes apply. See ``PolicyMode``.
    public var mode: PolicyMode?

    public init(
        protocols: ProtocolSupport = .init(), limits: RequestLimits = .init(),
        challengeScope: ChallengeScopeStrategy = .required, resourceMetadataURL: String? = nil,
        parameterHeaders: ParameterHeaders = .init(), mode: PolicyMode? = nil
    ) {
        self.protocols = protocols
        self.limits = limits
        self.challengeScope = challengeScope
        self.resourceMetadataURL = resourceMetadataURL
        self.parameterHeaders = parameterHeaders
        self.mode = mode
    }
}

/// The one place where an MCP HTTP request is authorized: protocol revision, limits, JSON-RPC shape,
/// header/body consistency, then a policy decision for every message. Pure: no I/O, no clock, no state; the
/// token is verified beforehand and passed in as a ``Credential``.
///
/// Order of checks: body size (413) → token (401) → protocol revision (400) → body (400/413) → headers
/// against body (400, `HeaderMismatch`) → policy (403). A refusal by the policy answers every request of the
/// body, with one challenge for the whole request.
///
/// Shadow mode (``AuthorizationSettings/mode``, the policy's `mode:`, a tool's `mode:`) relaxes only the last
/// step: a message the policy denies in shadow mode is marked ``MessageDecision/shadowed`` and does not refuse
/// the request (``AuthorizationVerdict/wouldDeny``). Tokens (401) and the protocol checks (400, 405, 413) are
/// enforced in every mode: shadow mode rolls out scope decisions, not authentication.
///
/// ```swift
/// let authorizer = RequestAuthorizer(policy: snapshot.policy)
/// let request = MCPHTTPRequest(method: "POST", headers: MCPRequestHeaders(fields), body: bytes)
/// let verdict = authorizer.authorize(request, credential: .granted(grant, expiresAt: exp, stripPrefixes: []))
/// ```
public struct RequestAuthorizer: Sendable {
    public let policy: CompiledPolicy
    public let settings: AuthorizationSettings

    public init(policy: CompiledPolicy, settings: AuthorizationSettings = .init()) {
        self.policy = policy
        self.settings = settings
    }

    /// The metadata URL in challenges.
    public var resourceMetadataURL: String? {
        settings.resourceMetadataURL ?? policy.model.resource?.id.flatMap(BearerChallenge.metadataURL(forResource:))
    }

    /// Authorizes a request with its body (the proxy, and `authz` when the front proxy forwards the body).
    public func authorize(_ request: MCPHTTPRequest, credential: Credential) -> AuthorizationVerdict {
        let bytes = request.body ?? []
        if bytes.count > settings.limits.maxBodyBytes {
            return reject(RequestRejection(.tooLarge, "request body larger than \(settings.limits.maxBodyBytes) bytes"))
        }
        let parsed: Result<JSONRPCBody, RequestRejection>
        do throws(RequestRejection) {
            parsed = .success(try JSONRPCBody.parse(bytes, limits: settings.limits))
        } catch {
            parsed = .failure(error)
        }
        let grant: Grant
        let stripPrefixes: [String]
        switch credential {
        case .missing, .invalid:
            var call: Call?
            if case .success(let body) = parsed, !body.isBatch { call = try? body.messages.first?.call() }
            return unauthorized(credential, call: call)
        case .granted(let g, _, let strip):
            grant = g
            stripPrefixes = strip
        }
        if let duplicated = request.headers.duplicated.first {
            return reject(RequestRejection(.headerMismatch, "header mismatch: `\(duplicated)` sent more than once"))
        }
        let revision: ProtocolRevision?
        switch resolveRevision(request.headers, body: try? parsed.get()) {
        case .success(let r): revision = r
        case .failure(let rejection): return reject(rejection, revision: nil)
        }
        guard request.method.uppercased() == "POST" else {
            // 2025-xx GET streams and DELETE need only a valid token; 2026-07-28 has neither.
            if revision?.isStateless == true {
                return reject(
                    RequestRejection(
                        .init("request.method_not_allowed", jsonRPC: -32600, httpStatus: 405),
                        "\(request.method.prefix(16)) is not part of \(ProtocolRevision.july2026)"),
                    revision: revision)
            }
            return AuthorizationVerdict(
                outcome: .allow, status: 200, revision: revision, decisions: [], listRequests: [:])
        }
        let body: JSONRPCBody
        switch parsed {
        case .success(let b): body = b
        case .failure(let rejection): return reject(rejection, revision: revision)
        }
        if revision?.isStateless == true, body.isBatch {
            return reject(
                RequestRejection(.invalidRequest, "a \(ProtocolRevision.july2026) body is one message, not a batch"),
                revision: revision)
        }
        var calls: [Call?] = []
        do throws(RequestRejection) {
            for message in body.messages {
                try HeaderConsistency.check(
                    request.headers, message: message, revision: revision,
                    parameterHeaders: settings.parameterHeaders)
                calls.append(try message.call())
            }
        } catch {
            return reject(error, revision: revision)
        }
        var decisions: [MessageDecision] = []
        decisions.reserveCapacity(calls.count)
        for (message, call) in zip(body.messages, calls) {
            decisions.append(decide(call, id: message.id, grant: grant, stripPrefixes: stripPrefixes))
        }
        return conclude(decisions, messages: body.messages, grant: grant, revision: revision)
    }

    /// Authorizes from the headers alone (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`): for a decision service
    /// that sees no body. Requires a revision that mirrors the body into headers (2026-07-28): older clients
    /// send no such headers, and a header that nothing checks against the body cannot be trusted.
    public func authorizeHeaders(_ headers: MCPRequestHeaders, credential: Credential) -> AuthorizationVerdict {
        let grant: Grant
        let stripPrefixes: [String]
        switch credential {
        case .missing, .invalid:
            let described = try? HeaderOnlyCall.describe(
                headers, policy: policy, parameterHeaders: settings.parameterHeaders)
            return unauthorized(credential, call: described?.call)
        case .granted(let g, _, let strip):
            grant = g
            stripPrefixes = strip
        }
        if let duplicated = headers.duplicated.first {
            return reject(RequestRejection(.headerMismatch, "header mismatch: `\(duplicated)` sent more than once"))
        }
        guard let text = headers.protocolVersion else {
            return reject(
                RequestRejection(
                    .headerMismatch,
                    "`MCP-Protocol-Version` is missing: a decision from headers alone needs \(ProtocolRevision.july2026) or later; use the proxy for older clients"
                ))
        }
        guard let revision = ProtocolRevision(text), settings.protocols.accepts(revision) else {
            return reject(settings.protocols.unsupported(text, id: nil))
        }
        guard revision.isStateless else {
            return reject(
                RequestRejection(
                    .unsupportedProtocolVersion,
                    "\(revision) mirrors nothing into headers: decide its requests with the body (the proxy)",
                    data: .object([
                        "supported": .array(
                            settings.protocols.supported.filter(\.isStateless).map { .string($0.rawValue) }),
                        "requested": .string(text),
                    ])),
                revision: revision)
        }
        let described: HeaderOnlyCall
        do throws(RequestRejection) {
            described = try HeaderOnlyCall.describe(
                headers, policy: policy, parameterHeaders: settings.parameterHeaders)
        } catch {
            return reject(error, revision: revision)
        }
        var decision: MessageDecision
        if described.missingHeaders.isEmpty {
            decision = decide(described.call, id: nil, grant: grant, stripPrefixes: stripPrefixes)
        } else {
            decision = MessageDecision(
                id: nil, call: described.call, allowed: false, reason: "missing_header", missing: [], required: [],
                ruleLocation: nil, missingHeaders: described.missingHeaders, decision: nil)
            let index = policy.toolRuleIndex(for: described.call.name)
            if let index { decision.ruleLocation = policy.model.tools[index].location }
            decision.shadowed = (settings.mode ?? policy.model.mode(ofToolRule: index)) == .shadow
        }
        let message = JSONRPCMessage(kind: .request, id: nil, method: described.call.method, params: [:])
        return conclude([decision], messages: [message], grant: grant, revision: revision)
    }

    // MARK: steps

    /// The revision of a request: its `MCP-Protocol-Version` when present (it must be supported); without the
    /// header, an `initialize` is the 2025-xx handshake (nil), a body carrying the 2026-07-28 `_meta` version
    /// lacks a required header, and anything else is taken as 2025-03-26.
    func resolveRevision(_ headers: MCPRequestHeaders, body: JSONRPCBody?) -> Result<
        ProtocolRevision?, RequestRejection
    > {
        let firstID = body?.messages.first?.id
        if let text = headers.protocolVersion {
            guard let revision = ProtocolRevision(text), settings.protocols.accepts(revision) else {
                return .failure(settings.protocols.unsupported(text, id: firstID))
            }
            return .success(revision)
        }
        if let body, !body.isBatch, body.messages[0].kind == .request, body.messages[0].method == "initialize" {
            return .success(nil)
        }
        if let meta = body?.messages.lazy.compactMap(\.metaProtocolVersion).first {
            return .failure(
                RequestRejection(
                    .headerMismatch,
                    "header mismatch: `MCP-Protocol-Version` is missing; the body says `\(meta.prefix(64))`",
                    id: firstID))
        }
        let assumed = ProtocolRevision.march2025
        guard settings.protocols.accepts(assumed) else {
            return .failure(settings.protocols.unsupported(assumed.rawValue, id: firstID))
        }
        return .success(assumed)
    }

    /// Decides one message.
    func decide(_ call: Call?, id: JSONValue?, grant: Grant, stripPrefixes: [String]) -> MessageDecision {
        guard let call else {
            return MessageDecision(
                id: id, call: nil, allowed: true, reason: Decision.Reason.allowed.rawValue, missing: [], required: [],
                ruleLocation: nil, missingHeaders: [], decision: nil)
        }
        let decision = policy.decide(call, grant: grant)
        var result = MessageDecision(
            id: id, call: call, allowed: decision.allowed, reason: decision.reason.rawValue, missing: [],
            required: [], ruleLocation: decision.rule, missingHeaders: [], decision: decision)
        if decision.reason == .missingScope {
            result.missing = policy.names(decision.missing)
            result.required = requiredScopes(call, missing: result.missing, grant: grant, stripPrefixes: stripPrefixes)
        }
        if !decision.allowed { result.shadowed = mode(of: call) == .shadow }
        return result
    }

    /// The mode a denial of `call` is under: the settings' override, else the call's tool rule's `mode`, else
    /// the policy's.
    func mode(of call: Call) -> PolicyMode {
        if let mode = settings.mode { return mode }
        let index = call.method == "tools/call" ? policy.toolRuleIndex(for: call.name) : nil
        return policy.model.mode(ofToolRule: index)
    }

    /// The scopes `call` needs given `grant`: the grant completed with the cheapest missing scopes satisfies
    /// the call; the clauses it satisfies (every part: requirement, action, `when:`) are the operation's
    /// scopes, granted or not.
    func requiredScopes(_ call: Call, missing: [String], grant: Grant, stripPrefixes: [String]) -> [String] {
        let completed = policy.grant(grant.granted + missing, stripPrefixes: stripPrefixes)
        let decision = policy.decide(call, grant: completed)
        guard decision.allowed else { return missing }
        let clause = policy.record(for: decision, call: call, grant: completed).clause
        return clause.isEmpty ? missing : clause
    }

    /// The verdict for decided messages: allow, or 403 answering every request with one challenge.
    func conclude(
        _ decisions: [MessageDecision], messages: [JSONRPCMessage], grant: Grant, revision: ProtocolRevision?
    ) -> AuthorizationVerdict {
        // Read in place: iterating the decisions copies each one (about 650 instructions a decision).
        guard decisions.indices.contains(where: { decisions[$0].refuses }) else {
            var lists: [JSONValue: ListMethod] = [:]
            for message in messages where message.kind == .request {
                if let id = message.id, let list = ListMethod(rawValue: message.method) { lists[id] = list }
            }
            return AuthorizationVerdict(
                outcome: .allow, status: 200, revision: revision, decisions: decisions, listRequests: lists)
        }
        let denied = decisions.filter(\.refuses)
        var challenge: String?
        let stepUp = denied.filter { $0.reason == Decision.Reason.missingScope.rawValue }
        if !stepUp.isEmpty {
            var scopes: [String] = []
            func add(_ names: [String]) { for s in names where !scopes.contains(s) { scopes.append(s) } }
            switch settings.challengeScope {
            case .required:
                for d in stepUp { add(d.required) }
            case .grantedPlusMissing:
                add(grant.recognized)
                for d in stepUp { add(d.missing) }
            }
            var subjects: [String] = []
            for d in stepUp {
                let subject = d.call.map { $0.name.isEmpty ? $0.method : $0.name } ?? ""
                if !subjects.contains(subject) { subjects.append(subject) }
            }
            challenge = BearerChallenge.insufficientScope(
                scopes: scopes, subjects: subjects, metadataURL: resourceMetadataURL)
        }
        var responses: [String] = []
        for (message, decision) in zip(messages, decisions) where message.kind == .request {
            let error =
                !decision.refuses
                ? JSONRPCError(
                    code: ScopeGateErrorCode.forbidden, message: "not run: another message of the batch was denied",
                    data: .object(["reason": .string("batch_denied")]))
                : decision.error
            responses.append(String(decoding: error.response(id: decision.id), as: UTF8.self))
        }
        let isBatch = messages.count > 1
        let body: [UInt8]? =
            responses.isEmpty
            ? nil : Array((isBatch ? "[" + responses.joined(separator: ",") + "]" : responses[0]).utf8)
        return AuthorizationVerdict(
            outcome: .forbidden, status: 403, wwwAuthenticate: challenge, body: body, revision: revision,
            decisions: decisions, listRequests: [:], error: denied[0].error)
    }

    func unauthorized(_ credential: Credential, call: Call?) -> AuthorizationVerdict {
        var error: TokenError?
        if case .invalid(let e) = credential { error = e }
        let challenge = BearerChallenge.unauthorized(
            policy: policy, call: call, error: error, metadataURL: resourceMetadataURL)
        let message = error.map { "invalid_token: \($0.message)" } ?? "unauthorized: a bearer token is required"
        let refusal = JSONRPCError(code: ScopeGateErrorCode.unauthorized, message: message)
        // The call, when one could be read, as an `invalid_token` decision: what the audit records of a 401.
        let decisions = call.map {
            [
                MessageDecision(
                    id: nil, call: $0, allowed: false, reason: Decision.Reason.invalidToken.rawValue, missing: [],
                    required: [], ruleLocation: nil, missingHeaders: [], decision: nil)
            ]
        }
        return AuthorizationVerdict(
            outcome: .unauthorized, status: 401, wwwAuthenticate: challenge, body: refusal.response(id: nil),
            revision: nil, decisions: decisions ?? [], listRequests: [:], error: refusal)
    }

    func reject(_ rejection: RequestRejection, revision: ProtocolRevision? = nil) -> AuthorizationVerdict {
        AuthorizationVerdict(
            outcome: .reject, status: rejection.code.httpStatus, body: rejection.responseBody(), revision: revision,
            decisions: [], rejection: rejection, listRequests: [:], error: rejection.error)
    }
}
