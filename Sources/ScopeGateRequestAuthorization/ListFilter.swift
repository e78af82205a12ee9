import Foundation
import ScopeGate

/// A list method whose result ScopeGate filters, with the result member that holds the list.
///
/// ```swift
/// ListMethod(rawValue: "tools/list")?.member      // "tools"
/// ```
public enum ListMethod: String, Sendable, Hashable, CaseIterable {
    case tools = "tools/list"
    case prompts = "prompts/list"
    case resources = "resources/list"
    case resourceTemplates = "resources/templates/list"

    /// The member of the result that holds the list.
    public var member: String {
        switch self {
        case .tools: "tools"
        case .prompts: "prompts"
        case .resources: "resources"
        case .resourceTemplates: "resourceTemplates"
        }
    }
}

/// Filters list results to what a grant may call, keeping the server's order: a tool when some way of calling
/// it is allowed (some declared action, when it has actions; `when:` conditions depend on arguments and are not
/// considered), a prompt when `prompts/get` of it is allowed, a resource when `resources/read` of its `uri` is,
/// a resource template when `resources/read` of the template text itself is (a glob rule such as `file:///*`
/// matches it). An entry without its name is dropped.
///
/// Each kept tool carries its requirement under `_meta["io.scopegate/requires"]` (see ``PublishedRequirements``;
/// off with ``publishRequirements``): only tools the grant may call are annotated, so nothing is published about a
/// removed one.
///
/// On a stateless revision (2026-07-28) a filtered result says `cacheScope: "private"` (it depends on the
/// token), and a `ttlMs` is lowered so that it does not outlive the token; a missing `ttlMs` is left missing.
///
/// ```swift
/// let filter = ListFilter(policy: policy, grant: grant, revision: verdict.revision,
///                         tokenExpiresAt: exp, now: clock.now(), requests: verdict.listRequests)
/// let out = filter.filterBody(upstreamBody)
/// ```
public struct ListFilter: Sendable {
    public let policy: CompiledPolicy
    public let grant: Grant
    public let revision: ProtocolRevision?
    public let tokenExpiresAt: Date?
    public let now: Date
    /// Request id → list method, from ``AuthorizationVerdict/listRequests``.
    public let requests: [JSONValue: ListMethod]
    /// Nesting bound when reading responses (deeper ones cannot be filtered and are refused).
    public var maxDepth = 512
    /// The front end's mode override (``AuthorizationSettings/mode``); nil: the policy's `mode:` settings. An
    /// entry whose calls shadow mode would let through is kept: shadow mode changes nothing a client sees.
    public var mode: PolicyMode?
    /// Whether each kept tool gets its requirement under `_meta["io.scopegate/requires"]`
    /// (``PublishedRequirements``), so that a client can plan the least token for the tools it means to call.
    public var publishRequirements = true

    public init(
        policy: CompiledPolicy, grant: Grant, revision: ProtocolRevision?, tokenExpiresAt: Date?, now: Date,
        requests: [JSONValue: ListMethod]
    ) {
        self.policy = policy
        self.grant = grant
        self.revision = revision
        self.tokenExpiresAt = tokenExpiresAt
        self.now = now
        self.requests = requests
    }

    /// Whether there is anything to filter (no list request: responses pass through untouched).
    public var isActive: Bool { !requests.isEmpty }

    /// Whether the grant may call `item` of `list`.
    public func allows(_ item: JSONValue, in list: ListMethod) -> Bool {
        guard case .object(let object) = item else { return false }
        let key =
            switch list {
            case .tools, .prompts: "name"
            case .resources: "uri"
            case .resourceTemplates: "uriTemplate"
            }
        guard case .string(let name)? = object[key] else { return false }
        let index = list == .tools ? policy.toolRuleIndex(for: name) : nil
        if (mode ?? policy.model.mode(ofToolRule: index)) == .shadow { return true }
        switch list {
        case .tools:
            guard let index else { return false }
            let rule = policy.model.tools[index]
            if let argument = rule.actionArgument, let actions = rule.actions {
                return actions.contains {
                    policy.isAllowed(.tool(name, arguments: [argument: .string($0.name)]), grant: grant)
                }
            }
            return policy.isAllowed(.tool(name), grant: grant)
        case .prompts: return policy.isAllowed(Call(method: "prompts/get", name: name), grant: grant)
        case .resources, .resourceTemplates:
            return policy.isAllowed(Call(method: "resources/read", name: name), grant: grant)
        }
    }

    /// The filtered message, or nil when `message` is not the result of a tracked list request.
    public func filterMessage(_ message: JSONValue) -> JSONValue? {
        guard case .object(var object) = message, let id = object["id"], let list = requests[id],
            case .object(var result)? = object["result"]
        else { return nil }
        if case .array(let items)? = result[list.member] {
            let kept = items.filter { allows($0, in: list) }
            result[list.member] = .array(list == .tools && publishRequirements ? annotated(kept) : kept)
        }
        if revision?.isStateless == true {
            result["cacheScope"] = .string("private")
            if case .number(let ttl)? = result["ttlMs"], let tokenExpiresAt {
                let remaining = max(0, (tokenExpiresAt.timeIntervalSince(now) * 1000).rounded(.down))
                let limit = Decimal(remaining)
                if limit < ttl { result["ttlMs"] = .number(limit) }
            }
        }
        object["result"] = .object(result)
        return .object(object)
    }

    /// Filters a whole JSON response body (one response or a batch). Bodies that hold no tracked list result
    /// are returned byte for byte; a body that cannot be read while list results are expected is replaced by
    /// a JSON-RPC error (fail closed: an unreadable list is never passed on unfiltered).
    public func filterBody(_ bytes: [UInt8]) -> [UInt8] {
        guard isActive else { return bytes }
        let parsed = bytes.withUnsafeBufferPointer { buffer in try? JSONParser(maxDepth: maxDepth).parse(buffer) }
        guard let value = parsed else { return unreadable }
        if case .array(let items) = value {
            var changed = false
            let out = items.map { item -> JSONValue in
                guard let filtered = filterMessage(item) else { return item }
                changed = true
                return filtered
            }
            return changed ? Array(JSONValue.array(out).jsonText.utf8) : bytes
        }
        guard let filtered = filterMessage(value) else { return bytes }
        return Array(filtered.jsonText.utf8)
    }

    /// The kept tools with their published requirements added to their `_meta` (other `_meta` members kept).
    func annotated(_ tools: [JSONValue]) -> [JSONValue] {
        let names = tools.compactMap { tool -> String? in
            if case .object(let object) = tool, case .string(let name)? = object["name"] { return name }
            return nil
        }
        let entries = PublishedRequirements.entries(for: names, in: policy)
        return tools.map { tool in
            guard case .object(var object) = tool, case .string(let name)? = object["name"], let entry = entries[name]
            else { return tool }
            var meta: [String: JSONValue] = [:]
            if case .object(let existing)? = object["_meta"] { meta = existing }
            meta[PublishedRequirements.metaKey] = entry
            object["_meta"] = .object(meta)
            return .object(object)
        }
    }

    /// The answer that replaces an unreadable response while list results are expected.
    var unreadable: [UInt8] {
        JSONRPCError(code: -32603, message: "a list result could not be read to filter it").response(id: nil)
    }
}
