#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension UsageAggregator {
    /// Reads a whole log from a file descriptor (``ChunkedLineReader``: memory stays bounded by its buffer and
    /// `maxLineBytes`), calling `onError` for each malformed line. Returns false if a read failed.
    public mutating func consume(fileDescriptor fd: Int32, onError: (UsageLineError) -> Void) -> Bool {
        withoutActuallyEscaping(onError) { onError in
            let reader = ChunkedLineReader(fileDescriptor: fd, maxLineBytes: maxLineBytes)
            var sink = Sink(aggregator: self, onError: onError)
            self = UsageAggregator(clientFilter: clientFilter)  // the sink holds the only copy while it reads
            let complete = reader.read(into: &sink)
            self = sink.aggregator
            return complete
        }
    }

    /// Feeds the reader's lines to the aggregator.
    struct Sink: LineSink {
        var aggregator: UsageAggregator
        let onError: (UsageLineError) -> Void

        mutating func line(_ bytes: UnsafeBufferPointer<UInt8>, number: Int) {
            if let e = aggregator.add(line: bytes, number: number) { onError(e) }
        }

        mutating func lineTooLong(number: Int) {
            onError(aggregator.tooLong(number: number))
        }
    }
}
