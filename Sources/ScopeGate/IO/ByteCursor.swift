/// Writes bytes into a fixed buffer, checking the room left once per piece (not the array's uniqueness and
/// capacity on every append). When a piece does not fit, it and every later one are dropped and `overflowed` is
/// set: the writer then writes the whole text again into a larger buffer, so a full buffer costs a second pass,
/// never a write past its end. Its writers are inlinable: `check --batch` and the proxy call them from other modules
/// once per piece, and a call per piece would cost more than the copy. That needs public declarations (Swift does
/// not inline a `package` one into another module), so the type is public as SPI: only modules of this package
/// import it (`@_spi(ScopeGatePackage) import ScopeGate`), and it is not part of the documented API.
///
/// ```swift
/// scratch.withUnsafeMutableBufferPointer { buffer in
///     var cursor = ByteCursor(buffer)
///     cursor.put("{\"line\":")
///     cursor.putDecimal(3)
///     return cursor.overflowed ? nil : cursor.count
/// }
/// ```
@_spi(ScopeGatePackage) public struct ByteCursor {
    public let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far, from the buffer's start. (Both are settable because the writers below are inlined
    /// into other modules, where a private setter cannot be called; only they set them.)
    public var count = 0
    /// Whether a piece did not fit.
    public var overflowed = false

    @inlinable
    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// Appends `bytes` when they fit.
    @inlinable @inline(__always)
    public mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !overflowed, bytes.count <= buffer.count &- count else {
            overflowed = true
            return
        }
        // In bounds: `count + bytes.count <= buffer.count` was just checked (a nil base means a count of zero).
        if let source = bytes.baseAddress, let target = buffer.baseAddress {
            Self.copy(UnsafeRawPointer(source), to: UnsafeMutableRawPointer(target + count), bytes.count)
        }
        count &+= bytes.count
    }

    /// Copies `n` bytes between buffers that do not overlap. A record is written in dozens of pieces of 1 to 32
    /// bytes (names, punctuation, numbers); up to 32 bytes are copied here as overlapping words, the rest by
    /// `memmove`, whose call was about 6% of `check --batch`'s CPU time when it copied every piece.
    @inlinable @inline(__always)
    static func copy(_ source: UnsafeRawPointer, to target: UnsafeMutableRawPointer, _ n: Int) {
        switch n {
        case 0:
            return
        case 1..<8:
            for i in 0..<n {
                target.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self)
            }
        case 8...16:
            // The first and the last eight bytes, overlapping when n < 16.
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: n &- 8, as: UInt64.self)
        case 17...32:
            let a = source.loadUnaligned(as: UInt64.self)
            let b = source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = source.loadUnaligned(fromByteOffset: n &- 16, as: UInt64.self)
            let d = source.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            target.storeBytes(of: a, as: UInt64.self)
            target.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            target.storeBytes(of: c, toByteOffset: n &- 16, as: UInt64.self)
            target.storeBytes(of: d, toByteOffset: n &- 8, as: UInt64.self)
        default:
            target.copyMemory(from: source, byteCount: n)
        }
    }

    /// Appends one byte when it fits.
    @inlinable @inline(__always)
    public mutating func put(_ byte: UInt8) {
        guard !overflowed, count < buffer.count, let target = buffer.baseAddress else {
            overflowed = true
            return
        }
        target[count] = byte
        count &+= 1
    }

    /// Appends the bytes of a literal.
    @inlinable @inline(__always)
    public mutating func put(_ s: StaticString) {
        put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends the bytes of an array.
    @inlinable @inline(__always)
    public mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// Appends the UTF-8 bytes of `string` (a native string's storage is read in place; a small one's is copied
    /// to the stack first).
    @inlinable @inline(__always)
    public mutating func put(contentsOf string: String) {
        var string = string
        string.withUTF8 { put($0) }
    }

    /// Appends `String(n)`'s bytes (``JSONText/writeDecimal(_:into:)``).
    public mutating func putDecimal(_ n: Int) {
        guard !overflowed, buffer.count &- count >= 20 else {
            overflowed = true
            return
        }
        let room = UnsafeMutableBufferPointer(rebasing: buffer[count...])
        count &+= JSONText.writeDecimal(n, into: UnsafeMutableRawBufferPointer(room))
    }
}

/// The bytes a ``ByteCursor`` writes into, owned for as long as the writer keeps this object: no closure is needed
/// to reach them (an array's `withUnsafeMutableBufferPointer` closure that captured the record writer copied the
/// writer, retaining each of its arrays, on every record).
@_spi(ScopeGatePackage) public final class ByteScratch {
    public let buffer: UnsafeMutableBufferPointer<UInt8>

    public init(count: Int) {
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: 0)
    }

    deinit { buffer.deallocate() }
}
