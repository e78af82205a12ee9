/// A token's granted scope strings resolved once against a compiled policy: a closure bitset plus what
/// was ignored and why. Build it once per token and reuse it for every call the token makes.
///
/// ```swift
/// let grant = policy.grant(["api://app/Files.Read", "Repo"], stripPrefixes: ["api://app/"])
/// grant.recognized   // ["api://app/Files.Read"]
/// grant.ignored      // [Repo: unknown_scope, hint "did you mean `repo`? scopes are case-sensitive"]
/// ```
public struct Grant: Sendable {
    /// Why a granted string grants nothing.
    public struct Ignored: Sendable, Hashable {
        public var scope: String
        /// `unknown_scope`, `undefined_wildcard` or `invalid_scope`.
        public var why: String
        /// A suggestion for `unknown_scope`, e.g. ``did you mean `repo`? scopes are case-sensitive``.
        public var hint: String? = nil
    }

    /// Everything the grant allows: union of the closures of the recognized scopes.
    public let closure: ScopeSet
    /// The ``CompiledPolicy/stamp`` this grant was resolved against.
    public let stamp: UInt64
    /// What a decision does not read, in one object: a grant is copied wherever it is passed or stored (each
    /// copy retains every reference it holds), and a decision reads only `closure` and `stamp`.
    let details: Details

    /// The strings as the client sent them (after splitting a space-separated claim).
    public var granted: [String] { details.granted }
    /// The strings that grant nothing, with the reason.
    public var ignored: [Ignored] { details.ignored }
    /// Which of `granted` were recognized: bit `i` for index `i < 64`, then the indices from 64 on. Kept as
    /// indices, not strings, so resolving a grant allocates its closure and this object only.
    var recognizedLow: UInt64 { details.recognizedLow }
    var recognizedHigh: [Int32] { details.recognizedHigh }

    final class Details: Sendable {
        let granted: [String]
        let ignored: [Ignored]
        let recognizedLow: UInt64
        let recognizedHigh: [Int32]

        init(granted: [String], ignored: [Ignored], recognizedLow: UInt64, recognizedHigh: [Int32]) {
            self.granted = granted
            self.ignored = ignored
            self.recognizedLow = recognizedLow
            self.recognizedHigh = recognizedHigh
        }
    }

    init(
        granted: [String], ignored: [Ignored], closure: ScopeSet, stamp: UInt64, recognizedLow: UInt64,
        recognizedHigh: [Int32]
    ) {
        self.closure = closure
        self.stamp = stamp
        self.details = Details(
            granted: granted, ignored: ignored, recognizedLow: recognizedLow, recognizedHigh: recognizedHigh)
    }

    /// The recognized strings as sent (prefixes kept), in order: used for `scope=` in challenges.
    public var recognized: [String] {
        var out: [String] = []
        out.reserveCapacity(recognizedLow.nonzeroBitCount + recognizedHigh.count)
        let granted = details.granted
        var bits = details.recognizedLow
        while bits != 0 {
            out.append(granted[bits.trailingZeroBitCount])
            bits &= bits &- 1
        }
        for i in details.recognizedHigh { out.append(granted[Int(i)]) }
        return out
    }
}

extension CompiledPolicy {
    /// Resolves a list of granted scope strings. `stripPrefixes` are removed first (e.g. Entra's
    /// `api://app/`); unknown strings and undefined wildcards are ignored and reported.
    ///
    /// The common case allocates twice (the closure bitset and the grant's details): names are looked up in place, recognized strings
    /// are remembered by index, and a closure is added member by member from the table's flat member list.
    public func grant(_ strings: [String], stripPrefixes: [String] = []) -> Grant {
        var closure = ScopeSet(capacity: scopes.count)
        var low: UInt64 = 0
        var high: [Int32] = []
        var ignored: [Grant.Ignored] = []
        strings.withUnsafeBufferPointer { names in
            for index in names.indices {
                let id: ScopeID?
                if stripPrefixes.isEmpty {
                    id = scopes.index.lookup(names[index])
                } else {
                    id = lookupStripped(names[index], stripPrefixes)
                }
                if let id {
                    // Adding a closure twice (a scope granted twice) changes nothing.
                    scopes.addClosure(of: id, to: &closure)
                    if index < 64 { low |= 1 << UInt64(index) } else { high.append(Int32(truncatingIfNeeded: index)) }
                } else {
                    ignored.append(ignoredEntry(names[index], stripPrefixes))
                }
            }
        }
        return Grant(
            granted: strings, ignored: ignored, closure: closure, stamp: stamp, recognizedLow: low,
            recognizedHigh: high)
    }

    private func lookupStripped(_ original: String, _ stripPrefixes: [String]) -> ScopeID? {
        scopes.index.lookup(Grant.unprefixed(original, stripping: stripPrefixes))
    }

    /// Why an unrecognized granted string (no prefixes stripped) grants nothing: the entry ``Grant/ignored`` holds
    /// for it.
    package func ignoredEntry(_ original: String) -> Grant.Ignored { ignoredEntry(original, []) }

    /// Why an unrecognized granted string grants nothing, with a hint when it differs from a defined scope only in
    /// case (`Repo` for `repo`): scopes are case-sensitive, so it stays ignored.
    private func ignoredEntry(_ original: String, _ stripPrefixes: [String]) -> Grant.Ignored {
        let why = Self.whyIgnored(original, stripPrefixes)
        guard why == "unknown_scope",
            let id = scopes.caseInsensitiveID(Grant.unprefixed(original, stripping: stripPrefixes))
        else { return .init(scope: original, why: why) }
        return .init(
            scope: original, why: why, hint: "did you mean `\(scopes.name(of: id))`? scopes are case-sensitive")
    }

    /// The reason an unrecognized granted string grants nothing.
    private static func whyIgnored(_ original: String, _ stripPrefixes: [String]) -> String {
        let name = Grant.unprefixed(original, stripping: stripPrefixes)
        if name == "*" || name.hasSuffix(":*") { return "undefined_wildcard" }
        if ResolvePass.problem(inScopeName: String(name), allowWildcard: true) != nil { return "invalid_scope" }
        return "unknown_scope"
    }

    /// Resolves a space-separated scope string (an OAuth `scope` claim).
    public func grant(scopeString: String, stripPrefixes: [String] = []) -> Grant {
        grant(
            scopeString.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init),
            stripPrefixes: stripPrefixes)
    }
}

extension Grant {
    /// `name` without the first of `prefixes` it starts with (`tokens.issuers[].strip_prefixes`, e.g. Entra's
    /// `api://app/`); `name` itself when none applies. Empty prefixes never apply.
    static func unprefixed(_ name: String, stripping prefixes: [String]) -> Substring {
        for prefix in prefixes where !prefix.isEmpty && name.hasPrefix(prefix) {
            return name.dropFirst(prefix.count)
        }
        return Substring(name)
    }
}
