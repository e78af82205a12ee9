import NIOCore

/// The body of an answer read by ``HTTP1Upstream``, as its connection reads it: a back-pressured sequence of
/// chunks. Reading it asks the connection for more; dropping it before the end closes the connection.
///
/// ```swift
/// guard case .channel(let body) = response.body else { return }
/// for try await chunk in body { try await writer.write(chunk) }   // read no faster than the client takes it
/// ```
public struct UpstreamChannelBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Delegate
    >
    typealias Source = Producer.Source

    let producer: Producer

    /// Tells the connection's handler, on its event loop, what the body's reader does.
    struct Delegate: NIOAsyncSequenceProducerDelegate {
        let handler: NIOLoopBound<UpstreamExchangeHandler>
        let exchange: Int

        func produceMore() {
            let (handler, exchange) = (handler, exchange)
            handler.eventLoop.execute { handler.value.resume(exchange: exchange) }
        }

        func didTerminate() {
            let (handler, exchange) = (handler, exchange)
            handler.eventLoop.execute { handler.value.abandon(exchange: exchange) }
        }
    }

    /// A body and the source its handler feeds. Up to 16 chunks are buffered before reading pauses, and reading
    /// resumes below 4.
    static func make(delegate: Delegate) -> (body: UpstreamChannelBody, source: Source) {
        let made = Producer.makeSequence(
            backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16), finishOnDeinit: false,
            delegate: delegate)
        return (UpstreamChannelBody(producer: made.sequence), made.source)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Producer.AsyncIterator

        public mutating func next() async throws -> ByteBuffer? { try await base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: producer.makeAsyncIterator()) }
}
