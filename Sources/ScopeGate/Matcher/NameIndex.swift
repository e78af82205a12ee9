/// A read-only hash table from names to values: scope names to their ids for the per-token path
/// (`CompiledPolicy.grant`), exact tool, resource, prompt and method names to their rules (``RuleTable``).
///
/// Swift's `Dictionary<String, _>` hashes with per-process-seeded SipHash and, for names longer than 15 bytes,
/// walks the string through its generic UTF-8 view; resolving a 10-scope grant spent most of its time there.
/// This table stores every name's UTF-8 bytes in one buffer (the first 16 in its slot), hashes and compares eight
/// bytes at a time. Open addressing with linear probing at a load factor of at most 1/2.
///
/// The keys are the policy's own names (trusted, fixed at compile time); lookups are untrusted strings, which can
/// only walk probe sequences that the key set already determines, so an input cannot make a lookup slower than the
/// longest probe run of the compiled table (no hash flooding without control of the keys).
struct NameIndex: Sendable {
    /// One probe reads one slot, 32 bytes (two to a cache line): the low 32 bits of the hash (the slot is chosen
    /// from its lowest bits; the rest screens out most other names), the name's length, where its bytes start, the
    /// value + 1 (0 for an empty slot), and the name's first 16 bytes, zero-padded. A name of up to 16 bytes is
    /// compared in the slot alone, so a lookup reads one cache line of the table; a longer one also reads the rest
    /// of its bytes. With the value in the slot (a rule table stores its rule index there), nothing else is read.
    struct Slot: Sendable {
        var hash: UInt32 = 0
        var length: UInt32 = 0
        var start: UInt32 = 0
        var valuePlusOne: UInt32 = 0
        var head = Head()
    }

    /// A name's first 16 bytes as two little-endian words, zero beyond its end (``hashAndHead(_:)`` reads them).
    struct Head: Sendable, Equatable {
        var low: UInt64 = 0
        var high: UInt64 = 0
    }

    private let slots: [Slot]
    private let bytes: [UInt8]
    private let mask: Int

    /// Names, read in place (no per-name byte array is made); the value of `names[i]` is `i`.
    init(_ names: [String]) {
        self.init(count: names.count) { id, add in
            var name = names[id]
            name.withUTF8 { add($0) }
        }
    }

    /// Keys as raw bytes (they need not be valid UTF-8, e.g. a prefix cut inside a character); the value of
    /// `keys[i]` is `i`. Keys, their total size and their count are those of a policy that passed the loader's
    /// limits, far below `UInt32.max`.
    init(keys: [[UInt8]]) {
        self.init(count: keys.count) { id, add in keys[id].withUnsafeBufferPointer { add($0) } }
    }

    /// `key(i, add)` passes the bytes of key `i` to `add`; its value is `values[i]` (default `i`). A key given
    /// twice gets two slots, and lookups stop at the first: the first of equal keys wins (RuleTable relies on it).
    init(count: Int, values: [Int]? = nil, key: (Int, (UnsafeBufferPointer<UInt8>) -> Void) -> Void) {
        var capacity = 8
        while capacity < count * 2 { capacity <<= 1 }
        var slots = [Slot](repeating: Slot(), count: capacity)
        var bytes: [UInt8] = []
        for id in 0..<count {
            let valuePlusOne = UInt32(truncatingIfNeeded: (values?[id] ?? id) + 1)
            key(id) { key in
                let start = bytes.count
                bytes.append(contentsOf: key)
                let (h, head) = Self.hashAndHead(key)
                var i = Int(truncatingIfNeeded: h) & (capacity - 1)
                while slots[i].valuePlusOne != 0 { i = (i + 1) & (capacity - 1) }
                slots[i] = Slot(
                    hash: UInt32(truncatingIfNeeded: h), length: UInt32(truncatingIfNeeded: key.count),
                    start: UInt32(truncatingIfNeeded: start), valuePlusOne: valuePlusOne,
                    head: head)
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
    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> UInt64 { hashAndHead(s).hash }

    /// ``hash(_:)`` and the name's ``Head``, from the same loads.
    @inline(__always)
    static func hashAndHead(_ s: UnsafeBufferPointer<UInt8>) -> (hash: UInt64, head: Head) {
        let n = s.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
        var head = Head()
        // An empty name hashes alike whether or not its buffer has an address.
        guard let base = s.baseAddress, n > 0 else { return (finish(h), head) }
        let raw = UnsafeRawPointer(base)
        if n >= 8 { head.low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)) }
        if n >= 16 { head.high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
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
                // Bytes 8 ..< n of a name of 9 to 15 bytes, shifted down to the low end.
                if n < 16 { head.high = UInt64(littleEndian: tail) >> (UInt64(16 &- n) &* 8) }
            } else {
                var shift: UInt64 = 0
                while i < n {
                    tail |= UInt64(base[i]) << shift
                    shift &+= 8
                    i &+= 1
                }
                head.low = tail
            }
        }
        return (finish(h ^ tail), head)
    }

    /// The tail can fill a whole word, so the hash ends with a full avalanche (MurmurHash3's fmix64): the slot is
    /// taken from the low bits, and a single multiply only carries low input bits upwards — names differing in
    /// their last bytes would otherwise share slots.
    @inline(__always)
    private static func finish(_ x: UInt64) -> UInt64 {
        var h = (x ^ (x >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        h = (h ^ (h >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 33)
    }

    /// Whether `bytes[start ..< start + s.count]` equals `s`, eight bytes per step, from byte `first` of `s` on
    /// (the bytes before it are known to be equal).
    @inline(__always)
    static func equal(
        _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ s: UnsafeBufferPointer<UInt8>, from first: Int = 0
    ) -> Bool {
        let n = s.count
        guard n > first, let a = bytes.baseAddress, let b = s.baseAddress else { return n <= first }
        let left = UnsafeRawPointer(a + start)
        let right = UnsafeRawPointer(b)
        var k = first
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

    /// The value of the name whose bytes are `s`, if it is indexed.
    func lookup(utf8 s: UnsafeBufferPointer<UInt8>) -> ScopeID? {
        let (full, head) = Self.hashAndHead(s)
        let h = UInt32(truncatingIfNeeded: full)
        let n = s.count
        return slots.withUnsafeBufferPointer { slots in
            bytes.withUnsafeBufferPointer { bytes in
                var i = Int(truncatingIfNeeded: full) & mask
                while true {
                    let slot = slots[i]
                    if slot.valuePlusOne == 0 { return nil }
                    if slot.hash == h, Int(slot.length) == n, slot.head == head {
                        // Past the 16 bytes the slot holds, a longer name's bytes are compared in `bytes`.
                        if n <= 16 { return slot.valuePlusOne &- 1 }
                        if Self.equal(bytes, Int(slot.start), s, from: 16) { return slot.valuePlusOne &- 1 }
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
        for (i, slot) in slots.enumerated() where slot.valuePlusOne != 0 {
            let home = Int(truncatingIfNeeded: slot.hash) & mask
            let length = ((i - home) & mask) + 1
            total += length
            maximum = max(maximum, length)
            names += 1
        }
        return (names == 0 ? 0 : Double(total) / Double(names), maximum)
    }
}
