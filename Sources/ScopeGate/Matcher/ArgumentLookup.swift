// Reading a value by a short name from a small dictionary: a call's argument (every condition and every action
// selection asks for one), a rule's declared action, and the members of a JSON-RPC request's `params` that the
// request authorization reads (package-visible and inlinable for that: a generic function is specialized only
// where its body is visible).

extension Dictionary where Key == String {
    /// How many entries ``value(named:)`` compares one by one before it hashes instead.
    @inlinable
    package static var nameScanLimit: Int { 8 }

    /// The value for `name`: the same answer as `self[name]` (keys compare with `String`'s `==`, as the dictionary's
    /// own lookup does). A call has a few arguments and a rule a few actions, and comparing `name` with each key
    /// costs a fraction of hashing it with the dictionary's seeded SipHash; a larger dictionary is looked up by
    /// hash, so a lookup never compares more than ``nameScanLimit`` keys.
    @inlinable @inline(__always)
    package func value(named name: String) -> Value? {
        guard count <= Self.nameScanLimit else { return self[name] }
        var i = startIndex
        while i != endIndex {
            if keys[i] == name { return values[i] }
            formIndex(after: &i)
        }
        return nil
    }
}
