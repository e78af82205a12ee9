import NIOCore
import NIOHTTP1

/// SwiftNIO's HTTP/1 response decoder, in a pipeline whose requests are written as bytes
/// (``UpstreamRequestBytes``). `HTTPResponseDecoder` learns each request's method by observing the
/// `HTTPClientRequestPart`s written past it, which a pipeline of byte writes does not have; this wrapper hides that
/// observation, and ``UpstreamExchangeHandler`` tells the decoder of each request itself (`decoder.write(data:)`),
/// so that the answer to a `HEAD` is still read without a body.
///
/// ```swift
/// let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)
/// try pipeline.addHandler(ByteToMessageHandler(UpstreamResponseDecoder(decoder)))
/// ```
struct UpstreamResponseDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart
    let decoder: HTTPResponseDecoder

    init(_ decoder: HTTPResponseDecoder) { self.decoder = decoder }

    func decoderAdded(context: ChannelHandlerContext) { decoder.decoderAdded(context: context) }

    func decoderRemoved(context: ChannelHandlerContext) { decoder.decoderRemoved(context: context) }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
