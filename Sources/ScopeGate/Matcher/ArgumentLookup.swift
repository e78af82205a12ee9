// Reading one of a call's arguments by name: every condition and every action selection asks it.

extension Dictionary where Key == String, Value == JSONValue {
    /// How many arguments ``argument(_:)`` compares one by one before it hashes instead.
    static var argumentScanLimit: Int { 8 }

    /// The argument named `name`: the same answer as `self[name]` (keys compare with `String`'s `==`, as the
    /// dictionary's own lookup does). A call has a few arguments, and comparing `name` with each key costs a
    /// fraction of hashing it with the dictionary's seeded SipHash; a larger object is looked up by hash, so a
    /// lookup never compares more than ``argumentScanLimit`` keys.
    @inline(__always)
    func argument(_ name: String) -> JSONValue? {
        guard count <= Self.argumentScanLimit else { return self[name] }
        var i = startIndex
        while i != endIndex {
            if keys[i] == name { return values[i] }
            formIndex(after: &i)
        }
        return nil
    }
}
