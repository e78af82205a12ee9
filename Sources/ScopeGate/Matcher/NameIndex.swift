/// A read-only hash table from names to dense ids, for the per-token path (`CompiledPolicy.grant`).
///
/// Swift's `Dictionary<String, _>` hashes with per-process-seeded SipHash and, for names longer than 15 bytes,
/// walks the string through its generic UTF-8 view; resolving a 10-scope grant spent most of its time there.
/// This table stores every name's UTF-8 bytes in one buffer, hashes with 64-bit FNV-1a and compares with
/// `memcmp`. Open addressing with linear probing at a load factor of at most 1/2.
///
/// The keys are the policy's own names (trusted, fixed at compile time); lookups are untrusted strings, which can
/// only walk probe sequences that the key set already determines, so an input cannot make a lookup slower than the
/// longest probe run of the compiled table (no hash flooding without control of the keys).
struct NameIndex: Sendable {
    /// `slots[i]` is an id + 1, or 0 for an empty slot.
    private let slots: [UInt32]
    private let hashes: [UInt64]
    private let bytes: [UInt8]
    /// Name `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    private let offsets: [Int]
    private let mask: Int

    init(_ names: [String]) {
        self.init(keys: names.map { Array($0.utf8) })
    }

    /// Keys as raw bytes (they need not be valid UTF-8, e.g. a prefix cut inside a character).
    init(keys: [[UInt8]]) {
        var capacity = 8
        while capacity < keys.count * 2 { capacity <<= 1 }
        var slots = [UInt32](repeating: 0, count: capacity)
        var hashes = [UInt64](repeating: 0, count: capacity)
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        offsets.reserveCapacity(keys.count + 1)
        for (id, key) in keys.enumerated() {
            bytes.append(contentsOf: key)
            offsets.append(bytes.count)
            let h = key.withUnsafeBufferPointer { Self.hash($0) }
            var i = Int(truncatingIfNeeded: h) & (capacity - 1)
            // Duplicate keys cannot reach here (the compiler rejects them); the first id would win anyway.
            while slots[i] != 0 { i = (i + 1) & (capacity - 1) }
            slots[i] = UInt32(id + 1)
            hashes[i] = h
        }
        self.slots = slots
        self.hashes = hashes
        self.bytes = bytes
        self.offsets = offsets
        self.mask = capacity - 1
    }

    @inline(__always)
    static func hash(_ s: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s {
            h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3
        }
        return h
    }

    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ s: UnsafeBufferPointer<UInt8>) -> Bool {
        var k = 0
        while k < s.count {
            if bytes[start &+ k] != s[k] { return false }
            k &+= 1
        }
        return true
    }

    /// The id of `name`, if it is one of the indexed names.
    func lookup(_ name: String) -> ScopeID? {
        var name = name
        return name.withUTF8 { lookup(utf8: $0) }
    }

    func lookup(utf8 s: UnsafeBufferPointer<UInt8>) -> ScopeID? {
        let h = Self.hash(s)
        return slots.withUnsafeBufferPointer { slots in
            hashes.withUnsafeBufferPointer { hashes in
                bytes.withUnsafeBufferPointer { bytes in
                    var i = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let slot = slots[i]
                        if slot == 0 { return nil }
                        if hashes[i] == h {
                            let id = Int(slot - 1)
                            let start = offsets[id], end = offsets[id + 1]
                            if end - start == s.count && Self.equal(bytes, start, s) { return ScopeID(id) }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
    }
}
