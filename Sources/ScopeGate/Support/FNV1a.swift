/// 64-bit FNV-1a: content hashes (policy versions, file fingerprints) and byte-keyed cache slots. Fast on short
/// keys and stable across runs and machines; not for security, and not for hash tables open to chosen keys.
///
/// The one FNV-1a of the package: the compiler's policy version, the MCP reloader's file fingerprints, the usage
/// analysis's raw-field cache and the CLI's grant cache all use it.
///
/// ```swift
/// var hasher = FNV1a()
/// hasher.combine(utf8: "scopes:")
/// hasher.combine(bytes: fileBytes)
/// let version = hasher.value
/// let key = FNV1a.hash(lineBytes)
/// ```
package struct FNV1a: Sendable {
    /// The hash of everything combined so far (the offset basis before anything is).
    package var value: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    /// Mixes in `bytes`, one at a time. Inlinable so a byte buffer in another module is hashed without a generic
    /// call per byte.
    @inlinable
    package mutating func combine(bytes: some Sequence<UInt8>) {
        for b in bytes {
            value ^= UInt64(b)
            value &*= 0x0000_0100_0000_01B3
        }
    }

    /// A string's UTF-8 bytes, through its contiguous storage (`String.UTF8View`'s iterator costs a call per byte).
    package mutating func combine(utf8 text: String) {
        var text = text
        text.withUTF8 { combine(bytes: $0) }
    }

    /// The hash of `bytes` alone.
    @inlinable
    package static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hasher = FNV1a()
        hasher.combine(bytes: bytes)
        return hasher.value
    }
}
