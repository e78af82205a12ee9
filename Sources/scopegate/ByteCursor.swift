import ScopeGate

/// Writes bytes into a fixed buffer, checking the room left once per piece (not the array's uniqueness and
/// capacity on every append). When a piece does not fit, it and every later one are dropped and `overflowed` is
/// set: the writer then writes the whole text again into a larger buffer, so a full buffer costs a second pass,
/// never a write past its end.
///
/// ```swift
/// scratch.withUnsafeMutableBufferPointer { buffer in
///     var cursor = ByteCursor(buffer)
///     cursor.put("{\"line\":")
///     cursor.putDecimal(3)
///     return cursor.overflowed ? nil : cursor.count
/// }
/// ```
struct ByteCursor {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far, from the buffer's start.
    private(set) var count = 0
    private(set) var overflowed = false

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    /// Appends `bytes` when they fit.
    @inline(__always)
    mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard !overflowed, bytes.count <= buffer.count &- count else {
            overflowed = true
            return
        }
        // In bounds: `count + bytes.count <= buffer.count` was just checked (a nil base means a count of zero).
        if let source = bytes.baseAddress, let target = buffer.baseAddress {
            (target + count).update(from: source, count: bytes.count)
        }
        count &+= bytes.count
    }

    /// Appends one byte when it fits.
    @inline(__always)
    mutating func put(_ byte: UInt8) {
        guard !overflowed, count < buffer.count, let target = buffer.baseAddress else {
            overflowed = true
            return
        }
        target[count] = byte
        count &+= 1
    }

    /// Appends the bytes of a literal.
    @inline(__always)
    mutating func put(_ s: StaticString) {
        put(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Appends the bytes of an array.
    @inline(__always)
    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    /// Appends `String(n)`'s bytes (``JSONText/writeDecimal(_:into:)``).
    mutating func putDecimal(_ n: Int) {
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
final class ByteScratch {
    let buffer: UnsafeMutableBufferPointer<UInt8>

    init(count: Int) {
        buffer = .allocate(capacity: max(count, 1))
        buffer.initialize(repeating: 0)
    }

    deinit { buffer.deallocate() }
}
