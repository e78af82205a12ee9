import Foundation
import ScopeGate

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

/// The batch loop's state: the processor and the output buffers, fed line by line by ``ChunkedLineReader``
/// (mutating methods, no closures capturing mutable state on the hot loop). Output is written in blocks of 64 KiB.
struct BatchSession: LineSink {
    var processor: BatchProcessor
    let logFD: Int32?
    var out: [UInt8] = []
    var logOut: [UInt8] = []
    var lineNumber = 0
    var allGood = true

    init(processor: BatchProcessor, logFD: Int32?) {
        self.processor = processor
        self.logFD = logFD
        out.reserveCapacity(1 << 17)
    }

    mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, number: Int) {
        lineNumber = number
        var count = bytes.count
        if count > 0, bytes[count - 1] == 0x0D { count -= 1 }
        var blank = true
        for i in 0..<count where bytes[i] != 0x20 && bytes[i] != 0x09 {
            blank = false
            break
        }
        if blank { return }
        if !processor.process(
            UnsafeBufferPointer(rebasing: bytes[0..<count]), lineNumber: lineNumber, output: &out, audit: &logOut)
        {
            allGood = false
        }
        flush(force: false)
    }

    /// An over-long line is answered once, in its place.
    mutating func lineTooLong(number: Int) {
        lineNumber = number
        allGood = false
        out.append(
            contentsOf: BatchProcessor.errorLine(
                number, id: nil, "line_too_long", "line is longer than \(processor.maxLineBytes) bytes"
            ).utf8)
        out.append(0x0A)
        flush(force: false)
    }

    mutating func flush(force: Bool) {
        if force || out.count > 1 << 16 {
            Self.write(1, out)
            out.removeAll(keepingCapacity: true)
        }
        if let logFD, force || logOut.count > 1 << 16 {
            Self.write(logFD, logOut)
            logOut.removeAll(keepingCapacity: true)
        }
    }

    /// Writes all of `bytes` (a closed or full output ends the writing silently, as `FileHandle.write` did not
    /// report either).
    static func write(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count, let base = raw.baseAddress {
                let n = posixWrite(fd, base + done, raw.count - done)
                if n > 0 {
                    done += n
                    continue
                }
                if n < 0 && errno == EINTR { continue }
                return
            }
        }
    }
}
