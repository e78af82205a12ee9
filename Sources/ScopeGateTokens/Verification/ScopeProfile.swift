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
        func add(_ str: String) {
            if seen == nil {
                if out.contains(str) { return }
                out.append(str)
                if out.count == 32 { seen = Set(out) }
            } else if seen?.insert(str).inserted == true {
                out.append(str)
            }
        }
        for name in claims {
            switch Self.lookup(name, in: claimsSet) {
            case .string(let value)?: Self.splitOnSpaces(value, add)
            case .array(let values)?:
                for case .string(let value) in values { Self.splitOnSpaces(value, add) }
            default: break
            }
        }
        if let roles {
            for role in Self.strings(Self.lookup(roles.claim, in: claimsSet)) {
                for granted in roles.map[role] ?? [] where !granted.isEmpty { add(granted) }
            }
        }
        return out
    }

    /// Calls `body` with each non-empty run between ASCII spaces, scanning the UTF-8 bytes (`String.split` walks
    /// grapheme clusters, which cost more than the rest of reading the claims). A space is always a scalar
    /// boundary, so each run is valid UTF-8 on its own.
    static func splitOnSpaces(_ value: String, _ body: (String) -> Void) {
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for i in 0..<bytes.count where bytes[i] == UInt8(ascii: " ") {
                if start != i { body(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)) }
                start = i + 1
            }
            if start != bytes.count {
                body(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]), as: UTF8.self))
            }
        }
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
