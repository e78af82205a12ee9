/// A read-only hash table from names to dense ids, for the per-token path (`CompiledPolicy.grant`).
///
/// Swift's `Dictionary<String, _>` hashes with per-process-seeded SipHash and, for names longer than 15 bytes,
/// walks the string through its generic UTF-8 view; resolving a 10-scope grant spent most of its time there.
/// This table stores every name's UTF-8 bytes in one buffer, hashes eight bytes at a time and compares with
/// `memcmp`. Open addressing with linear probing at a load factor of at most 1/2.
///
/// The keys are the policy's own names (trusted, fixed at compile time); lookups are untrusted strings, which can
/// only walk probe sequences that the key set already determines, so an input cannot make a lookup slower than the
/// longest probe run of the compiled table (no hash flooding without control of the keys).
struct NameIndex: Sendable {
    /// One probe reads one slot: the low 32 bits of the hash (the slot is chosen from its lowest bits; the
    /// rest screens out most other names before their bytes are compared), where the name's bytes start, its
    /// length and its id + 1 (0 for an empty slot), so a lookup touches the slot array and the name bytes and
    /// nothing else. 16 bytes: the slot array is the index's largest part (512 KB for 10,000 tools).
    struct Slot: Sendable {
        var hash: UInt32 = 0
        var start: UInt32 = 0
        var length: UInt32 = 0
        var idPlusOne: UInt32 = 0
    }

    private let slots: [Slot]
    private let bytes: [UInt8]
    private let mask: Int

    /// Names, read in place (no per-name byte array is made).
    init(_ names: [String]) {
        self.init(count: names.count) { id, add in
            var name = names[id]
            name.withUTF8 { add($0) }
        }
    }

    /// Keys as raw bytes (they need not be valid UTF-8, e.g. a prefix cut inside a character). Keys, their total
    /// size and their count are those of a policy that passed the loader's limits, far below `UInt32.max`.
    init(keys: [[UInt8]]) {
        self.init(count: keys.count) { id, add in keys[id].withUnsafeBufferPointer { add($0) } }
    }

    /// `key(id, add)` passes the bytes of key `id` to `add`.
    init(count: Int, key: (Int, (UnsafeBufferPointer<UInt8>) -> Void) -> Void) {
        var capacity = 8
        while capacity < count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(), count: capacity)
        var bytes: [UInt8] = []
        for id in 0..<count {
            key(id) { key in
                let start = bytes.count
                bytes.append(contentsOf: key)
                let h = Self.hash(key)
                var i = Int(truncatingIfNeeded: h) & (capacity - 1)
                // A key given twice gets two slots; lookups stop at the first, so the first id wins (RuleTable relies on it).
                while slots[i].idPlusOne != 0 { i = (i + 1) & (capacity - 1) }
                slots[i] = Slot(
                    hash: UInt32(truncatingIfNeeded: h), start: UInt32(truncatingIfNeeded: start),
                    length: UInt32(truncatingIfNeeded: key.count), idPlusOne: UInt32(truncatingIfNeeded: id + 1))
            }
        }
        self.slots = slots
        self.bytes = bytes
        self.mask = capacity - 1
    }

    /// Eight bytes per step (a multiply and a shift each), then the tail; the final mix spreads every input bit
    /// into the low bits that pick the slot. A byte-at-a-time hash such as FNV-1a costs a serial multiply per byte
    /// of every scope name, about half of resolving a grant.
    @inline(__always)
    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let n = s.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        guard let base = s.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i &+ 8 <= n {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i &+= 8
        }
        var tail: UInt64 = 0
        if i < n {
            if n >= 8 {
                // The last eight bytes, overlapping the words already mixed: one load instead of a byte loop.
                tail = raw.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            } else {
                var shift: UInt64 = 0
                while i < n {
                    tail |= UInt64(base[i]) << shift
                    shift &+= 8
                    i &+= 1
                }
            }
        }
        // The tail can fill a whole word, so finish with a full avalanche (MurmurHash3's fmix64): the slot is
        // taken from the low bits, and a single multiply only carries low input bits upwards — names differing
        // in their last bytes would otherwise share slots.
        h ^= tail
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }

    /// Whether `bytes[start ..< start + s.count]` equals `s`, eight bytes per step.
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = s.count
        guard n > 0, let a = bytes.baseAddress, let b = s.baseAddress else { return n == 0 }
        let left = UnsafeRawPointer(a + start)
        let right = UnsafeRawPointer(b)
        var k = 0
        while k &+ 8 <= n {
            if left.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                != right.loadUnaligned(fromByteOffset: k, as: UInt64.self)
            {
                return false
            }
            k &+= 8
        }
        if k < n && n >= 8 {
            // The last eight bytes, overlapping bytes already compared.
            return left.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
                == right.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
        }
        while k < n {
            if left.load(fromByteOffset: k, as: UInt8.self) != right.load(fromByteOffset: k, as: UInt8.self) {
                return false
            }
            k &+= 1
        }
        return true
    }

    /// The id of `name`, if it is one of the indexed names. A native string is read in place (no copy, no
    /// retain); anything else is made contiguous first.
    @inline(__always)
    func lookup(_ name: String) -> ScopeID? {
        if let found = name.utf8.withContiguousStorageIfAvailable({ lookup(utf8: $0) }) { return found }
        var name = name
        return name.withUTF8 { lookup(utf8: $0) }
    }

    /// The id of `name` (e.g. a granted string with a prefix stripped), read in place when it can be.
    func lookup(_ name: Substring) -> ScopeID? {
        if let found = name.utf8.withContiguousStorageIfAvailable({ lookup(utf8: $0) }) { return found }
        var name = name
        return name.withUTF8 { lookup(utf8: $0) }
    }

    func lookup(utf8 s: UnsafeBufferPointer<UInt8>) -> ScopeID? {
        let full = Self.hash(s)
        let h = UInt32(truncatingIfNeeded: full)
        return slots.withUnsafeBufferPointer { slots in
            bytes.withUnsafeBufferPointer { bytes in
                var i = Int(truncatingIfNeeded: full) & mask
                while true {
                    let slot = slots[i]
                    if slot.idPlusOne == 0 { return nil }
                    if slot.hash == h && Int(slot.length) == s.count && Self.equal(bytes, Int(slot.start), s) {
                        return slot.idPlusOne &- 1
                    }
                    i = (i &+ 1) & mask
                }
            }
        }
    }

    /// Slots a successful lookup reads, on average and at worst, over all indexed names (for tests: a hash that
    /// leaves the last bytes of names out of the slot choice shows up here as long probe runs).
    var probeLengths: (average: Double, maximum: Int) {
        var total = 0
        var maximum = 0
        var names = 0
        for (i, slot) in slots.enumerated() where slot.idPlusOne != 0 {
            let home = Int(truncatingIfNeeded: slot.hash) & mask
            let length = ((i - home) & mask) + 1
            total += length
            maximum = max(maximum, length)
            names += 1
        }
        return (names == 0 ? 0 : Double(total) / Double(names), maximum)
    }
}
