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

    /// Eight bytes per step (a multiply and a shift each), then the tail; the final mix spreads every input bit
    /// into the low bits that pick the slot. Byte-at-a-time FNV-1a was half of resolving a grant: a serial
    /// multiply per byte of every scope name.
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
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base[i]) << shift
            shift &+= 8
            i &+= 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 29)
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
