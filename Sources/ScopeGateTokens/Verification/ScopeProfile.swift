import ScopeGate

/// How granted scopes are read from one issuer's tokens.
///
/// Each listed claim that is present is read and the results are unioned: a string is split on spaces (`scope`,
/// Entra `scp`), an array contributes its string elements (Okta `scp`, Auth0 `permissions`). The roles claim
/// (string or array) is mapped through the role → scopes table; unmapped roles grant nothing. A claim name is
/// looked up as a top-level key first; if absent and it contains dots, as a path (`realm_access.roles`).
struct ScopeProfile: Sendable, Hashable {
    let claims: [String]
    let roles: TokensConfig.RoleMapping?

    func scopes(from claimsSet: [String: ClaimValue]) -> [String] {
        var out: [String] = []
        // Duplicates are found by a linear scan while the list is short (a token's usual handful of scopes; no
        // seeded hashing per scope), then by a set, so a token with thousands of scopes stays linear.
        var seen: Set<String>?
        func add(_ s: Substring) {
            if s.isEmpty { return }
            let str = String(s)
            if seen == nil {
                if out.contains(str) { return }
                out.append(str)
                if out.count == 32 { seen = Set(out) }
            } else if seen?.insert(str).inserted == true {
                out.append(str)
            }
        }
        for name in claims {
            for value in Self.strings(Self.lookup(name, in: claimsSet)) { Self.splitOnSpaces(value, add) }
        }
        if let roles {
            for role in Self.strings(Self.lookup(roles.claim, in: claimsSet)) {
                for granted in roles.map[role] ?? [] { add(Substring(granted)) }
            }
        }
        return out
    }

    /// Calls `body` with each non-empty run between ASCII spaces, scanning UTF-8 (`String.split` walks grapheme
    /// clusters, which costs more than the rest of reading the claims). A space is always a scalar boundary.
    static func splitOnSpaces(_ value: String, _ body: (Substring) -> Void) {
        let bytes = value.utf8
        var start = bytes.startIndex
        var i = start
        while i != bytes.endIndex {
            if bytes[i] == UInt8(ascii: " ") {
                if start != i { body(Substring(bytes[start..<i])) }
                start = bytes.index(after: i)
            }
            i = bytes.index(after: i)
        }
        if start != bytes.endIndex { body(Substring(bytes[start..<bytes.endIndex])) }
    }

    /// String values of a claim: a string as one element, an array's string elements; anything else nothing.
    static func strings(_ value: ClaimValue?) -> [String] {
        switch value {
        case .string(let s)?: return [s]
        case .array(let a)?: return a.compactMap(\.stringValue)
        default: return []
        }
    }

    static func lookup(_ name: String, in claims: [String: ClaimValue]) -> ClaimValue? {
        if let direct = claims[name] { return direct }
        guard name.utf8.contains(UInt8(ascii: ".")) else { return nil }
        var node: ClaimValue = .object(claims)
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = node[String(part)] else { return nil }
            node = next
        }
        return node
    }
}
