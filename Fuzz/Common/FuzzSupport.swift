import Foundation

@testable import ScopeGate

/// Shared by every fuzz target (compiled into each target's module, which is named `ScopeGate` so harnesses
/// see internal API). A broken invariant prints what broke and aborts, so libFuzzer records the input.
enum Fuzz {
    static func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
        if !condition() {
            FileHandle.standardError.write(Data("FUZZ INVARIANT BROKEN: \(message())\n".utf8))
            abort()
        }
    }
}

/// A random-number generator driven by the fuzzer's bytes: each `next()` puts one input byte in the top
/// bits (which is what `Int.random(in:)` and `Double.random(in:)` look at for small ranges), and a SplitMix64
/// stream in the rest, so rejection sampling always terminates and short inputs still generate something.
/// Mutating one byte changes one choice, which keeps libFuzzer's mutations local.
struct FuzzRNG: RandomNumberGenerator {
    let bytes: [UInt8]
    var position = 0
    var state: UInt64

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        state = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        guard position < bytes.count else { return z }
        let byte = UInt64(bytes[position])
        position += 1
        return (byte << 56) | (z >> 8)
    }

    // int/chance/pick come from the RandomNumberGenerator extension in Tests/ScopeGateTests/PolicyGenerator.swift.
}
