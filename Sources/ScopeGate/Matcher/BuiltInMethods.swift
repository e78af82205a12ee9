/// The JSON-RPC methods that need only a valid token when no rule under the policy's `methods:` names them
/// (docs/policy-reference.md, "How a request is routed"). The matcher, the test suite's reference evaluator and
/// the MCP layer all read this one table.
package enum BuiltInMethods {
    /// Methods any valid token may call: the session handshake, liveness, discovery and the list methods
    /// (the lists are filtered per caller, not denied).
    package static let tokenOnly: Set<String> = [
        "initialize", "ping", "server/discover", "tools/list", "resources/list", "resources/templates/list",
        "prompts/list",
    ]

    /// Every method under this prefix (notifications carry no request to authorize) needs only a valid token.
    package static let notificationPrefix = "notifications/"

    /// Whether `method` needs only a valid token when no `methods:` rule matches it.
    package static func needsOnlyToken(_ method: String) -> Bool {
        tokenOnly.contains(method) || method.hasPrefix(notificationPrefix)
    }
}
