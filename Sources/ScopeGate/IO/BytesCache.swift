#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A cache from raw bytes (a field's JSON text, as read from a line) to a value, so repeated texts are recognized
/// without decoding them again. Keys are compared byte for byte on a hash hit; when `limit` entries are held the
/// cache is cleared (it is only a cache). Used for grants in `check --batch` and for clients, clauses and grants
/// in ``UsageAggregator``.
///
/// ```swift
/// var cache = BytesCache<Int32>()
/// text.withUTF8 { bytes in
///     if cache.lookup(bytes) == nil { cache.insert(bytes, 7) }
/// }
/// ```
package struct BytesCache<Value>: Sendable where Value: Sendable {
    var buckets: [UInt64: [([UInt8], Value)]] = [:]
    package private(set) var count = 0
    package let limit: Int

    package init(limit: Int = 1 << 16) { self.limit = limit }

    package static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { FNV1a.hash(bytes) }

    package func lookup(_ bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        guard let bucket = buckets[Self.hash(bytes)] else { return nil }
        for (raw, value) in bucket where raw.count == bytes.count {
            let same = raw.withUnsafeBufferPointer { r in
                guard let a = r.baseAddress, let b = bytes.baseAddress else { return bytes.count == 0 }
                return memcmp(a, b, bytes.count) == 0
            }
            if same { return value }
        }
        return nil
    }

    package mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, _ value: Value) {
        if count >= limit {
            buckets.removeAll(keepingCapacity: true)
            count = 0
        }
        buckets[Self.hash(bytes), default: []].append((Array(bytes), value))
        count += 1
    }
}
