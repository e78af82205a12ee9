/// A token's granted scope strings resolved once against a compiled policy: a closure bitset plus what
/// was ignored and why. Build it once per token and reuse it for every call the token makes.
public struct Grant: Sendable {
    /// Why a granted string grants nothing.
    public struct Ignored: Sendable, Hashable {
        public var scope: String
        /// `unknown_scope`, `undefined_wildcard` or `invalid_scope`.
        public var why: String
    }

    /// The strings as the client sent them (after splitting a space-separated claim).
    public let granted: [String]
    /// The recognized strings as sent (prefixes kept), in order: used for `scope=` in challenges.
    public let recognized: [String]
    /// The strings that grant nothing, with the reason.
    public let ignored: [Ignored]
    /// Everything the grant allows: union of the closures of the recognized scopes.
    public let closure: ScopeSet
    /// Ids of the recognized scopes themselves.
    public let held: [ScopeID]
    /// The ``CompiledPolicy/stamp`` this grant was resolved against.
    public let stamp: UInt64
}

extension CompiledPolicy {
    /// Resolves a list of granted scope strings. `stripPrefixes` are removed first (e.g. Entra's
    /// `api://app/`); unknown strings and undefined wildcards are ignored and reported.
    public func grant(_ strings: [String], stripPrefixes: [String] = []) -> Grant {
        var closure = ScopeSet(capacity: scopes.count)
        var held: [ScopeID] = []
        var recognized: [String] = []
        var ignored: [Grant.Ignored] = []
        held.reserveCapacity(strings.count)
        recognized.reserveCapacity(strings.count)
        for original in strings {
            var stripped: Substring?
            for prefix in stripPrefixes where !prefix.isEmpty && original.hasPrefix(prefix) {
                stripped = original.dropFirst(prefix.count)
                break
            }
            // Unstripped strings are looked up as they are: `String(Substring)` would copy every name longer than
            // 15 bytes to the heap.
            let name = stripped.map(String.init) ?? original
            if let id = scopes.id(name) {
                if !held.contains(id) {
                    held.append(id)
                    scopes.addClosure(of: id, to: &closure)
                }
                recognized.append(original)
            } else if name == "*" || name.hasSuffix(":*") {
                ignored.append(.init(scope: original, why: "undefined_wildcard"))
            } else if ResolvePass.problem(inScopeName: name, allowWildcard: true) != nil {
                ignored.append(.init(scope: original, why: "invalid_scope"))
            } else {
                ignored.append(.init(scope: original, why: "unknown_scope"))
            }
        }
        return Grant(granted: strings, recognized: recognized, ignored: ignored, closure: closure, held: held, stamp: stamp)
    }

    /// Resolves a space-separated scope string (an OAuth `scope` claim).
    public func grant(scopeString: String, stripPrefixes: [String] = []) -> Grant {
        grant(scopeString.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init),
              stripPrefixes: stripPrefixes)
    }
}
