#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Receives the lines of a ``ChunkedLineReader``, in order.
package protocol LineSink {
    /// One complete line, without its newline (a trailing CR is kept), numbered from 1.
    mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, number: Int)
    /// A line longer than the reader's limit: not delivered, only numbered.
    mutating func lineTooLong(number: Int)
}

/// Reads a file descriptor in fixed-size chunks and hands each line to a ``LineSink`` straight from the buffer,
/// so memory stays bounded by the buffer whatever the input's size: a line longer than `maxLineBytes` is reported
/// once (``LineSink/lineTooLong(number:)``) and skipped to its end. A last line without a newline is delivered.
/// Shared by `check --batch` and the audit-log reader of ``UsageAggregator``.
///
/// ```swift
/// struct Counter: LineSink {
///     var count = 0
///     mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, number: Int) { count += 1 }
///     mutating func lineTooLong(number: Int) {}
/// }
/// var counter = Counter()
/// let ok = ChunkedLineReader(fileDescriptor: 0, maxLineBytes: 1 << 20).read(into: &counter)
/// ```
package struct ChunkedLineReader {
    package let fileDescriptor: Int32
    package let maxLineBytes: Int
    /// The buffer's size: the longest line kept whole, plus room to read ahead.
    package let capacity: Int

    package init(fileDescriptor: Int32, maxLineBytes: Int) {
        self.fileDescriptor = fileDescriptor
        self.maxLineBytes = max(maxLineBytes, 0)
        capacity = max(1 << 22, self.maxLineBytes + 1)
    }

    /// Reads to the end of the input; returns false if a read failed (the lines before it were delivered).
    package func read(into sink: inout some LineSink) -> Bool {
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0
        var number = 0
        var skipping = false  // inside an over-long line, discarding up to its newline
        while true {
            let n = systemRead(fileDescriptor, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            let end = filled + n
            var start = 0
            while start < end, let nl = memchr(buffer + start, 0x0A, end - start) {
                let newline = buffer.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                number += 1
                if skipping {
                    skipping = false
                } else {
                    deliver(UnsafeBufferPointer(start: buffer + start, count: newline - start), number, &sink)
                }
                start = newline + 1
            }
            if n == 0 {
                if start < end, !skipping {
                    number += 1
                    deliver(UnsafeBufferPointer(start: buffer + start, count: end - start), number, &sink)
                }
                return true
            }
            // Keep the partial line; past the limit it is over-long: report it now and skip to its end.
            let rest = end - start
            if rest >= capacity || (rest > maxLineBytes && !skipping) {
                if !skipping {
                    sink.lineTooLong(number: number + 1)
                    skipping = true
                }
                filled = 0
            } else {
                if start > 0 && rest > 0 { memmove(buffer, buffer + start, rest) }
                filled = rest
            }
        }
    }

    func deliver(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ sink: inout some LineSink) {
        if line.count > maxLineBytes {
            sink.lineTooLong(number: number)
        } else {
            sink.line(line, number: number)
        }
    }
}
