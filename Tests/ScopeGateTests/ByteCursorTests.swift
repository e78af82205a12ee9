@_spi(ScopeGatePackage) import ScopeGate
import Testing

/// ``ByteCursor`` copies short pieces itself (as overlapping words) and long ones with `memmove`: every length on
/// both sides of each boundary lands byte for byte, and a piece that does not fit sets `overflowed` and writes
/// nothing past the buffer.
@Suite("byte cursor")
struct ByteCursorTests {
    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 300])
    func piecesOfEveryLengthLandByteForByte(length: Int) {
        let piece = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let scratch = ByteScratch(count: 2 * length + 8)
        var cursor = ByteCursor(scratch.buffer)
        cursor.put(UInt8(ascii: "<"))
        piece.withUnsafeBufferPointer { cursor.put($0) }
        piece.withUnsafeBufferPointer { cursor.put($0) }
        cursor.put(UInt8(ascii: ">"))
        #expect(!cursor.overflowed)
        #expect(cursor.count == 2 * length + 2)
        #expect(Array(scratch.buffer[0..<cursor.count]) == [UInt8(ascii: "<")] + piece + piece + [UInt8(ascii: ">")])
    }

    @Test(arguments: [1, 8, 16, 20, 32, 40])
    func aPieceThatDoesNotFitIsDroppedAndFlagged(length: Int) {
        let scratch = ByteScratch(count: length + 4)
        scratch.buffer.initialize(repeating: 0xEE)
        var cursor = ByteCursor(UnsafeMutableBufferPointer(rebasing: scratch.buffer[0..<length]))
        cursor.put(UInt8(ascii: "x"))
        let piece = [UInt8](repeating: 0x41, count: length)
        piece.withUnsafeBufferPointer { cursor.put($0) }
        #expect(cursor.overflowed)
        #expect(cursor.count == 1)
        // Nothing written past the first byte: the rest of the buffer and the 4 guard bytes are as they were.
        #expect(scratch.buffer[1...].allSatisfy { $0 == 0xEE })
    }

    /// Strings go in as their UTF-8 bytes, whether stored in place (up to 15 bytes) or on the heap, ASCII or not.
    @Test(arguments: ["", "a", "Content-Type", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "café ☕️ 時計"])
    func stringsGoInAsTheirUTF8Bytes(text: String) {
        let scratch = ByteScratch(count: text.utf8.count + 2)
        var cursor = ByteCursor(scratch.buffer)
        cursor.put(contentsOf: text)
        cursor.put(UInt8(ascii: "|"))
        #expect(!cursor.overflowed)
        #expect(Array(scratch.buffer[0..<cursor.count]) == Array(text.utf8) + [UInt8(ascii: "|")])
    }
}
