import Testing

@testable import ScopeGate

@Suite struct BytesCacheTests {
    /// Past several growths of the slot array every key still finds its own value, and a miss stays a miss; at
    /// the limit the cache starts again empty.
    @Test func findsEveryKeyAcrossGrowthAndClearsAtTheLimit() {
        var cache = BytesCache<Int>(limit: 1_001)
        let keys = (0..<999).map { Array("key-\($0)-\(String(repeating: "x", count: $0 % 19))".utf8) }
        for (i, key) in keys.enumerated() { key.withUnsafeBufferPointer { cache.insert($0, i) } }
        #expect(cache.count == keys.count)
        for (i, key) in keys.enumerated() { #expect(key.withUnsafeBufferPointer { cache.lookup($0) } == i) }
        #expect(Array("key-1000-".utf8).withUnsafeBufferPointer { cache.lookup($0) } == nil)
        // The empty key and a repeated key: the first value stays.
        [UInt8]().withUnsafeBufferPointer { cache.insert($0, -1) }
        #expect([UInt8]().withUnsafeBufferPointer { cache.lookup($0) } == -1)
        keys[0].withUnsafeBufferPointer { cache.insert($0, 42) }
        #expect(keys[0].withUnsafeBufferPointer { cache.lookup($0) } == 0)
        #expect(cache.count == 1_000)
        // The entry past the limit clears the cache first.
        Array("last".utf8).withUnsafeBufferPointer { cache.insert($0, 8) }
        Array("new".utf8).withUnsafeBufferPointer { cache.insert($0, 7) }
        #expect(cache.count == 1)
        #expect(keys[5].withUnsafeBufferPointer { cache.lookup($0) } == nil)
        #expect(Array("new".utf8).withUnsafeBufferPointer { cache.lookup($0) } == 7)
    }
}
