#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A cache from raw bytes (a field's JSON text, as read from a line) to a value, so repeated texts are recognized
/// without decoding them again. Keys are compared byte for byte on a hash hit; when `limit` entries are held the
/// cache is cleared (it is only a cache). Used for grants and unknown scopes' `ignored` entries in `check --batch`
/// and for clients, clauses and grants in ``UsageAggregator``. The keys live in a ``BytesIndex``, which is not
/// generic: callers in other modules run its compiled code rather than an unspecialized generic copy.
///
/// ```swift
/// var cache = BytesCache<Int32>()
/// text.withUTF8 { bytes in
///     if cache.lookup(bytes) == nil { cache.insert(bytes, 7) }
/// }
/// ```
package struct BytesCache<Value>: Sendable where Value: Sendable {
    private var index = BytesIndex()
    private var values: [Value] = []
    package var count: Int { values.count }
    package let limit: Int

    /// `limit` is clamped to 1 ..< 2³¹ (an entry's number is kept in 32 bits).
    package init(limit: Int = 1 << 16) { self.limit = min(max(limit, 1), Int(Int32.max)) }

    package func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        // Not `find(bytes).map { values[$0] }`: across modules that is an unspecialized generic call with a
        // closure, several times the cost of the lookup itself.
        guard let number = index.find(bytes) else { return nil }
        return values[number]
    }

    /// Adds `bytes` → `value` (a key already held keeps its first value).
    package mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Value) {
        if count >= limit {
            index.removeAll()
            values.removeAll(keepingCapacity: true)
        }
        if index.insert(bytes) { values.append(value) }
    }
}

/// Byte strings numbered in the order they were added: open addressing with linear probing (load at most 1/2) over
/// one buffer of key bytes, so a lookup hashes the key once and touches the slot array and the key bytes, with no
/// per-entry array to retain. Keys come from untrusted lines, so they are hashed with the standard library's
/// per-process-seeded `Hasher`: a batch cannot be built to make every key share one probe run.
package struct BytesIndex: Sendable {
    /// An entry's place: the low 32 bits of its key's hash (the slot is chosen from its lowest bits; the rest
    /// screens out most other keys before their bytes are compared), its number + 1 (0 for an empty slot), where
    /// its key starts in `keys` and the key's length.
    struct Slot: Sendable {
        var hash: UInt32 = 0
        var numberPlusOne: UInt32 = 0
        var start = 0
        var length = 0
    }

    private var slots = [Slot](repeating: Slot(), count: 16)
    private var keys: [UInt8] = []
    /// Entries held.
    package private(set) var count = 0

    package init() {}

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return UInt32(truncatingIfNeeded: hasher.finalize())
    }

    /// The number of the entry whose key is `bytes`.
    package func find(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let slot = probe(bytes, hash: Self.hash(bytes))
        let number = slots[slot].numberPlusOne
        return number == 0 ? nil : Int(number) - 1
    }

    /// Adds `bytes` as entry number `count`; false when it is already held.
    package mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        if (count + 1) * 2 > slots.count { grow() }
        let h = Self.hash(bytes)
        let slot = probe(bytes, hash: h)
        if slots[slot].numberPlusOne != 0 { return false }
        slots[slot] = Slot(
            hash: h, numberPlusOne: UInt32(truncatingIfNeeded: count + 1), start: keys.count, length: bytes.count)
        keys.append(contentsOf: bytes)
        count += 1
        return true
    }

    /// Forgets every entry, keeping the storage.
    package mutating func removeAll() {
        for i in slots.indices { slots[i] = Slot() }
        keys.removeAll(keepingCapacity: true)
        count = 0
    }

    /// The slot holding `bytes`, or the empty slot where the probe for it stopped.
    private func probe(_ bytes: UnsafeBufferPointer<UInt8>, hash h: UInt32) -> Int {
        slots.withUnsafeBufferPointer { slots in
            keys.withUnsafeBufferPointer { keys in
                let mask = slots.count - 1
                var i = Int(h) & mask
                while true {
                    let slot = slots[i]
                    if slot.numberPlusOne == 0 { return i }
                    if slot.hash == h, slot.length == bytes.count {
                        guard let key = keys.baseAddress, let other = bytes.baseAddress else { return i }
                        if memcmp(key + slot.start, other, bytes.count) == 0 { return i }
                    }
                    i = (i &+ 1) & mask
                }
            }
        }
    }

    /// Doubles the slot array, placing every entry again by its stored hash.
    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: old.count * 2)
        let mask = slots.count - 1
        for slot in old where slot.numberPlusOne != 0 {
            var i = Int(slot.hash) & mask
            while slots[i].numberPlusOne != 0 { i = (i + 1) & mask }
            slots[i] = slot
        }
    }
}
