import Foundation
import MCP
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Where a handler finds its caller.
///
/// A source also knows the caller's token string, which only the RFC 8693 exchange of a `downstream:` tool uses
/// (as `subject_token`); it is never given to a handler.
///
/// ```swift
/// // stdio: the launching host grants the scopes.
/// await server.withAuthorizedTools(
///     authorizer, tools: tools,
///     caller: .provider {
///         Caller(scopes: ["mcp:tools:climate"], clientID: "stdio", policy: authorizer.store.current.policy)
///     }
/// ) { call, caller in try await run(call) }
/// ```
public struct CallerSource: Sendable {
    let resolve: @Sendable (MCPAuthorizer) async -> Caller?
    let subjectToken: @Sendable () async -> String?

    init(
        resolve: @escaping @Sendable (MCPAuthorizer) async -> Caller?,
        subjectToken: @escaping @Sendable () async -> String? = { nil }
    ) {
        self.resolve = resolve
        self.subjectToken = subjectToken
    }

    /// The bearer token of the HTTP request being handled (`Server.currentHandlerContext?.httpContext`), looked up
    /// in the authorizer's verified-token cache only (``MCPHTTPGateway`` filled it). Nil without HTTP context.
    public static let httpContext = CallerSource(
        resolve: { authorizer in
            guard let request = Server.currentHandlerContext?.httpContext else { return nil }
            return authorizer.cachedCaller(authorization: request.header("Authorization"))
        },
        subjectToken: {
            BearerChallenge.token(fromAuthorization: Server.currentHandlerContext?.httpContext?.header("Authorization"))
        })

    /// A caller from your own provider (stdio servers: e.g. a token verified at start-up, or scopes configured by
    /// the launching host). Such a caller has no token to exchange: `downstream:` tools answer
    /// `exchange.no_subject_token` unless you use ``provider(_:subjectToken:)``.
    public static func provider(_ provider: @escaping @Sendable () async -> Caller?) -> CallerSource {
        CallerSource(resolve: { _ in await provider() })
    }

    /// A caller from your own provider, with the token it authenticated with (verified by you), which
    /// `downstream:` tools exchange.
    public static func provider(
        _ provider: @escaping @Sendable () async -> Caller?,
        subjectToken: @escaping @Sendable () async -> String?
    ) -> CallerSource {
        CallerSource(resolve: { _ in await provider() }, subjectToken: subjectToken)
    }

    /// The HTTP context when there is one, else `fallback` (one server wired for both HTTP and stdio).
    public static func httpContext(orElse fallback: CallerSource) -> CallerSource {
        CallerSource(
            resolve: { authorizer in
                if Server.currentHandlerContext?.httpContext != nil {
                    return await CallerSource.httpContext.resolve(authorizer)
                }
                return await fallback.resolve(authorizer)
            },
            subjectToken: {
                if Server.currentHandlerContext?.httpContext != nil {
                    return await CallerSource.httpContext.subjectToken()
                }
                return await fallback.subjectToken()
            })
    }
}

extension Server {
    /// Registers `tools/list` and `tools/call` handlers that enforce the policy per tool call.
    ///
    /// `tools/call` decides the call (tool name and arguments) with the caller's grant before `handler` runs; a
    /// denial returns a tool error result (`isError: true`) naming the missing scopes, with
    /// `structuredContent: {"error", "reason", "missing"}`; no caller → denied (fail closed). `tools/list` lists
    /// only the tools the caller may call when ``ScopeGateMCPConfiguration/filterToolsList`` is on (default).
    ///
    /// Over HTTP behind ``MCPHTTPGateway`` the request was already decided and audited there; the handler check
    /// audits only a denial (e.g. a policy reload between the two). Without HTTP context (stdio) every decision is
    /// audited here.
    ///
    /// Tools with `downstream:` get no exchanged token through this variant; use
    /// ``withAuthorizedTools(_:tools:caller:delegating:)`` for them.
    @discardableResult
    public func withAuthorizedTools(
        _ authorizer: MCPAuthorizer,
        tools: [Tool],
        caller source: CallerSource = .httpContext(orElse: .provider { nil }),
        handler: @escaping @Sendable (CallTool.Parameters, Caller) async throws -> CallTool.Result
    ) -> Self {
        authorizedTools(authorizer, tools: tools, source: source, exchange: false) { params, caller, _ in
            try await handler(params, caller)
        }
    }

    /// Like ``withAuthorizedTools(_:tools:caller:handler:)``, and for an allowed call of a tool with `downstream:`
    /// the caller's token is first exchanged (RFC 8693) for a token to the downstream API; `handler` gets that
    /// ``DownstreamToken`` (nil for tools without `downstream:`) and never the caller's token.
    ///
    /// A failed exchange does not run `handler`: the result is a tool error (`isError: true`) with
    /// `structuredContent: {"error": "token_exchange_failed", "reason": "<TokenExchangeError code>", "audience",
    /// "oauth_error"}`. Every exchange (or failure) is one audit event with its `downstream` record.
    @discardableResult
    public func withAuthorizedTools(
        _ authorizer: MCPAuthorizer,
        tools: [Tool],
        caller source: CallerSource = .httpContext(orElse: .provider { nil }),
        delegating handler:
            @escaping @Sendable (CallTool.Parameters, Caller, DownstreamToken?) async throws -> CallTool.Result
    ) -> Self {
        authorizedTools(authorizer, tools: tools, source: source, exchange: true, handler: handler)
    }

    private func authorizedTools(
        _ authorizer: MCPAuthorizer,
        tools: [Tool],
        source: CallerSource,
        exchange: Bool,
        handler: @escaping @Sendable (CallTool.Parameters, Caller, DownstreamToken?) async throws -> CallTool.Result
    ) -> Self {
        withMethodHandler(ListTools.self) { _ in
            guard authorizer.configuration.filterToolsList else { return ListTools.Result(tools: tools) }
            guard let caller = await source.resolve(authorizer) else { return ListTools.Result(tools: []) }
            let snapshot = authorizer.store.current
            let kept = tools.filter { authorizer.mayCall(tool: $0.name, caller: caller, snapshot: snapshot) }
            let entries = PublishedRequirements.entries(for: kept.map(\.name), in: snapshot.policy)
            return ListTools.Result(tools: kept.map { $0.publishing(entries[$0.name]) })
        }
        return withMethodHandler(CallTool.self) { params in
            let viaHTTP = Server.currentHandlerContext?.httpContext != nil
            let call = Call.tool(params.name, arguments: (params.arguments ?? [:]).mapValues(JSONValue.init(mcp:)))
            guard let caller = await source.resolve(authorizer) else {
                return CallTool.Result(
                    content: [
                        .text(
                            text: "unauthorized: no verified caller for `\(params.name)`", annotations: nil, _meta: nil)
                    ],
                    structuredContent: .object([
                        "error": .string("unauthorized"), "reason": .string("invalid_token"),
                        "missing": .array([]),
                    ]),
                    isError: true)
            }
            let snapshot = authorizer.store.current
            let outcome = authorizer.decide(call, caller: caller, snapshot: snapshot, audit: false)
            if !viaHTTP || !outcome.decision.allowed {
                authorizer.audit(
                    call, decision: outcome.decision, caller: caller.resolved(against: snapshot.policy),
                    snapshot: snapshot)
            }
            guard outcome.decision.allowed else {
                let text: String
                if outcome.decision.reason == .missingScope {
                    text =
                        "insufficient_scope: `\(params.name)` needs "
                        + outcome.missing.map { "`\($0)`" }.joined(separator: ", ")
                } else {
                    text = "forbidden: `\(params.name)` (\(outcome.decision.reason.rawValue))"
                }
                return CallTool.Result(
                    content: [.text(text: text, annotations: nil, _meta: nil)],
                    structuredContent: .object([
                        "error": .string(outcome.decision.reason == .missingScope ? "insufficient_scope" : "forbidden"),
                        "reason": .string(outcome.decision.reason.rawValue),
                        "missing": .array(outcome.missing.map(Value.string)),
                    ]),
                    isError: true)
            }
            let resolved = caller.resolved(against: snapshot.policy)
            guard exchange, let downstream = authorizer.downstream(forTool: params.name, snapshot: snapshot) else {
                return try await handler(params, resolved, nil)
            }
            switch await authorizer.exchange(
                downstream, for: call, caller: resolved, subjectToken: await source.subjectToken(),
                snapshot: snapshot)
            {
            case .success(let token):
                return try await handler(params, resolved, token)
            case .failure(let error):
                var content: [String: Value] = [
                    "error": .string("token_exchange_failed"), "reason": .string(error.code.id),
                    "audience": .string(downstream.audience),
                ]
                if let oauth = error.oauthError { content["oauth_error"] = .string(oauth) }
                return CallTool.Result(
                    content: [
                        .text(
                            text:
                                "token_exchange_failed: `\(params.name)` cannot get a token for `\(downstream.audience)`: \(error.message)",
                            annotations: nil, _meta: nil)
                    ],
                    structuredContent: .object(content),
                    isError: true)
            }
        }
    }
}

extension Tool {
    /// The tool with its requirement under `_meta["io.scopegate/requires"]` (``PublishedRequirements``), so that a
    /// client can plan the least token for the tools it means to call; other `_meta` members are kept.
    func publishing(_ entry: JSONValue?) -> Tool {
        guard let entry else { return self }
        var tool = self
        var meta = tool._meta ?? Metadata()
        meta.fields[PublishedRequirements.metaKey] = entry.mcpValue
        tool._meta = meta
        return tool
    }
}

extension JSONValue {
    /// The MCP SDK value of a core JSON value (an integral number that fits `Int` as an integer).
    var mcpValue: Value {
        switch self {
        case .null: .null
        case .bool(let b): .bool(b)
        case .number(let n):
            if let i = Int(n.description) { .int(i) } else { .double(Double(n.description) ?? 0) }
        case .string(let s): .string(s)
        case .array(let a): .array(a.map(\.mcpValue))
        case .object(let o): .object(o.mapValues(\.mcpValue))
        }
    }

    /// The core's JSON value of an MCP SDK value (numbers as exact decimals; binary data as a string).
    public init(mcp value: Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Decimal(i))
        case .double(let d):
            if d.isFinite, let decimal = Decimal(string: "\(d)") {
                self = .number(decimal)
            } else {
                self = .string("\(d)")  // not a JSON number: a wrong type for numeric matchers, which fail closed
            }
        case .string(let s): self = .string(s)
        case .data(_, let data): self = .string(data.base64EncodedString())
        case .array(let a): self = .array(a.map(JSONValue.init(mcp:)))
        case .object(let o): self = .object(o.mapValues(JSONValue.init(mcp:)))
        }
    }
}
