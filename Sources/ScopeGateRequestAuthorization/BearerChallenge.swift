import Foundation
import ScopeGate
import ScopeGateTokens

/// `Authorization: Bearer` parsing and `WWW-Authenticate` challenges (RFC 6750 §3, RFC 9728 §5.1), rendered
/// once for every front end: the 401 of a missing or refused token and the 403 `insufficient_scope` step-up.
///
/// ```swift
/// BearerChallenge.token(fromAuthorization: "Bearer abc")   // "abc"
/// BearerChallenge.render([("error", "insufficient_scope"), ("scope", "files:read")])
/// // Bearer error="insufficient_scope", scope="files:read"
/// ```
public enum BearerChallenge {
    /// The token of an `Authorization: Bearer <token>` header; nil when absent or not the Bearer scheme.
    /// The token must be token68 characters (RFC 6750 §2.1), non-empty, without whitespace; the scheme is
    /// matched case-insensitively and followed by at least one space; surrounding spaces and tabs are ignored.
    public static func token(fromAuthorization header: String?) -> String? {
        guard let token = presentedToken(fromAuthorization: header), isToken68(token) else { return nil }
        return token
    }

    /// ``token(fromAuthorization:)`` without its token68 check: the scheme and spacing are checked, the token's
    /// characters are not. For a lookup among tokens that passed the check before, such as a verified-token
    /// cache, which the check would only repeat (about 1,900 instructions for a 600-byte JWT); anything else done
    /// with the token must check ``isToken68(_:)`` first.
    ///
    /// ```swift
    /// guard let token = BearerChallenge.presentedToken(fromAuthorization: header) else { return .missing }
    /// if let hit = cache.value(for: token) { return hit }
    /// guard BearerChallenge.isToken68(token) else { return .missing }
    /// ```
    public static func presentedToken(fromAuthorization header: String?) -> String? {
        guard var header else { return nil }
        // Read in place (a native string's bytes are contiguous): indexing a `String.UTF8View` byte by byte made
        // this a few percent of a cached-token decision, for a 700-byte JWT.
        return header.withUTF8 { bytes -> String? in
            guard let range = tokenRange(bytes) else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
    }

    /// Whether a token is non-empty and all token68 characters: letters, digits and `-._~+/=` (RFC 6750 §2.1).
    public static func isToken68(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { !$0.isEmpty && allToken68($0) }
    }

    /// Where the token is in an `Authorization` header's bytes, its characters unchecked (see
    /// ``presentedToken(fromAuthorization:)``).
    private static func tokenRange(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        let trimmed = ByteClass.trimmingBlanks(UnsafeRawBufferPointer(bytes), in: 0..<bytes.count)
        var start = trimmed.lowerBound
        let end = trimmed.upperBound
        for expected in "bearer".utf8 {
            guard start < end, bytes[start] | 0x20 == expected else { return nil }
            start += 1
        }
        guard start < end, bytes[start] == UInt8(ascii: " ") else { return nil }
        while start < end, ByteClass.isBlank(bytes[start]) { start += 1 }
        guard start < end else { return nil }
        return start..<end
    }

    /// Whether every byte is a token68 character: a letter, a digit or one of `-._~+/=`. Compares without branches
    /// or an early exit, so the loop over a 700-byte JWT is vectorized.
    private static func allToken68(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // `||` would branch per byte; each test is a 0 or 1 combined with `|`.
        var bad: UInt8 = 0
        for u in bytes {
            var ok: UInt8 = ((u &- 0x30) < 10 ? 1 : 0) | (((u | 0x20) &- 0x61) < 26 ? 1 : 0)
            ok |= (u == UInt8(ascii: "-") ? 1 : 0) | (u == UInt8(ascii: ".") ? 1 : 0) | (u == UInt8(ascii: "_") ? 1 : 0)
            ok |= (u == UInt8(ascii: "~") ? 1 : 0) | (u == UInt8(ascii: "+") ? 1 : 0) | (u == UInt8(ascii: "/") ? 1 : 0)
            ok |= u == UInt8(ascii: "=") ? 1 : 0
            bad |= ok ^ 1
        }
        return bad == 0
    }

    /// A challenge parameter value kept to at most 200 printable ASCII characters without `"` or `\`.
    public static func safe(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(200) {
            if u.value >= 0x20, u.value < 0x7F, u != "\"", u != "\\" {
                out.unicodeScalars.append(u)
            } else {
                out += "?"
            }
        }
        return out
    }

    /// `Bearer k="v", …` from ordered parameters (values made header-safe).
    public static func render(_ parameters: [(String, String)]) -> String {
        parameters.isEmpty
            ? "Bearer" : "Bearer " + parameters.map { "\($0.0)=\"\(safe($0.1))\"" }.joined(separator: ", ")
    }

    /// The RFC 9728 metadata URL (path form) of a resource id:
    /// `scheme://host[:port]/.well-known/oauth-protected-resource/path`.
    public static func metadataURL(forResource id: String) -> String? {
        guard let url = URL(string: id), let scheme = url.scheme, let host = url.host, !host.isEmpty else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(port)/.well-known/oauth-protected-resource\(path)"
    }

    /// The 401 challenge: `error="invalid_token"` and its description for a presented but refused token, then
    /// `resource_metadata`, then `scope` = `scopes_supported` plus, for a known tool call, the least-privilege
    /// scopes of that tool (of its selected action when the arguments name a declared one).
    public static func unauthorized(
        policy: CompiledPolicy, call: Call?, error: TokenError?, metadataURL: String?
    ) -> String {
        unauthorized(
            scopesSupported: policy.model.resource?.resolvedScopesSupported ?? [],
            toolScopes: call.map { leastPrivilege($0, policy: policy) } ?? [], error: error, metadataURL: metadataURL)
    }

    /// The 401 challenge from scopes already known: `scopesSupported`, then the `toolScopes` not among them (a
    /// front end that caches each tool's least-privilege set passes it here).
    public static func unauthorized(
        scopesSupported: [String], toolScopes: [String], error: TokenError?, metadataURL: String?
    ) -> String {
        var scopes = scopesSupported
        for s in toolScopes where !scopes.contains(s) { scopes.append(s) }
        var parameters: [(String, String)] = []
        if let error {
            parameters.append(("error", error.oauthError))
            parameters.append(("error_description", error.message))
        }
        if let metadataURL { parameters.append(("resource_metadata", metadataURL)) }
        if !scopes.isEmpty { parameters.append(("scope", scopes.joined(separator: " "))) }
        return render(parameters)
    }

    /// The 403 challenge: `error="insufficient_scope"`, `scope`, `resource_metadata` and a description naming
    /// up to three of the refused tools or methods.
    public static func insufficientScope(scopes: [String], subjects: [String], metadataURL: String?) -> String {
        var parameters: [(String, String)] = [
            ("error", "insufficient_scope"), ("scope", scopes.joined(separator: " ")),
        ]
        if let metadataURL { parameters.append(("resource_metadata", metadataURL)) }
        let named =
            subjects.prefix(3).map { "`\($0.prefix(64))`" }.joined(separator: ", ") + (subjects.count > 3 ? ", …" : "")
        parameters.append(("error_description", "additional scope required for \(named)"))
        return render(parameters)
    }

    /// The least-privilege scopes of a known tool call (its selected action when declared); empty otherwise.
    static func leastPrivilege(_ call: Call, policy: CompiledPolicy) -> [String] {
        guard call.method == "tools/call", let index = policy.toolRuleIndex(for: call.name) else { return [] }
        let rule = policy.model.tools[index]
        var actions: [String]?
        if let argument = rule.actionArgument, case .string(let a)? = call.arguments[argument],
            rule.actions?.contains(where: { $0.name == a }) == true
        {
            actions = [a]
        }
        let selection = ToolSelection(tool: call.name, actions: actions)
        return (try? LeastPrivilegeSolver(policy: policy).minimal(for: [selection]))?.scopes ?? []
    }
}
