/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and the same sequence on every platform.
///
/// ```swift
/// var rng = SplitMix64(seed: 7)
/// let roll = rng.below(6)   // the same on every run and platform
/// ```
package struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    package init(seed: UInt64) { state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (`n > 0`); `0` when `n <= 0`.
    package mutating func below(_ n: Int) -> Int {
        guard n > 0 else { return 0 }
        return Int(next() % UInt64(n))
    }

    /// One of `items`, uniformly (`items` must not be empty).
    package mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// `true` with probability `percent`/100.
    package mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}
