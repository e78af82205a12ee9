import ScopeGateTokens

/// Step-up after a 403 (MCP authorization, 2026-07-28): when the answer is `insufficient_scope`, the new scope
/// set is the union of the scopes held and the challenge's `scope`; an answer that asks for nothing new is not
/// retried (a new token would be refused the same way).
///
/// ```swift
/// if let wider = StepUp.scopes(held: token.scopes, response: answer) { token = try await obtain(wider) }
/// ```
public enum StepUp {
    /// The scopes to ask for, or nil when `response` is not a 403 `insufficient_scope` that asks for more.
    public static func scopes(held: [String], response: HTTPResponse) -> [String]? {
        guard response.status == 403, let header = response.value(forHeader: "WWW-Authenticate"),
            let challenge = WWWAuthenticate(header), challenge.error == "insufficient_scope"
        else { return nil }
        let union = Set(held).union(challenge.scopes)
        guard union.count > Set(held).count else { return nil }
        return union.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
