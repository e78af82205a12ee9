import NIOCore
import NIOHTTP1
import ScopeGateRequestAuthorization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The proxy's request decoder, in place of SwiftNIO's `HTTPRequestDecoder` and made from ``RequestHeadParser``: it
/// reads a connection's bytes into the same `HTTPServerRequestPart`s (a head, the body as it arrives, an end), so the handlers after it
/// do not change, and refuses what the parser refuses by throwing an `HTTPParserError`, which the server answers
/// with 400 and a close, as it did SwiftNIO's errors. It reads bodies framed by `Content-Length` or by
/// `Transfer-Encoding: chunked` (RFC 9112 §7.1: chunk extensions are checked and dropped, trailer fields are
/// checked and passed on with the end), and pipelined requests one after another.
///
/// ```swift
/// try pipeline.addHandler(ByteToMessageHandler(HTTP1RequestDecoder(maxHeadBytes: 80 << 10, maxFields: 1000)))
/// ```
package struct HTTP1RequestDecoder: ByteToMessageDecoder {
    package typealias InboundOut = HTTPServerRequestPart

    private enum State {
        /// Reading a head; `scanned` is how far the search for its end got.
        case head(scanned: Int)
        /// A `Content-Length` body: the bytes still to come.
        case body(remaining: Int)
        /// A chunk's size line.
        case chunkSize
        /// A chunk's data: the bytes still to come.
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd
        /// The trailer section after the last chunk; `scanned` as for a head.
        case trailers(scanned: Int)
    }

    private let parser: RequestHeadParser
    private var state = State.head(scanned: 0)

    /// The longest chunk-size line read (size, extensions, CRLF); a longer one is refused.
    private static let maxChunkLine = 4096

    /// `maxHeadBytes` and `maxFields` cap each head and each trailer section (``RequestHeadParser``); a head over
    /// them is refused as a header overflow.
    package init(maxHeadBytes: Int, maxFields: Int) {
        parser = RequestHeadParser(maxHeadBytes: maxHeadBytes, maxFields: maxFields, acceptsChunked: true)
    }

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        switch state {
        case .head(var scanned):
            let outcome = buffer.withUnsafeReadableBytes { parser.parse($0, scanned: &scanned) }
            switch consume outcome {
            case .incomplete:
                state = .head(scanned: scanned)
                return .needMoreData
            case .refused(let refusal):
                throw Self.error(for: refusal)
            case .head(let head, let length):
                buffer.moveReaderIndex(forwardBy: length)
                // The next state is set before the head is passed on, so the decoder is consistent whatever the
                // handlers after it do.
                let hasBody = head.chunked || head.contentLength > 0
                state = head.chunked ? .chunkSize : hasBody ? .body(remaining: head.contentLength) : .head(scanned: 0)
                let version = HTTPVersion(major: 1, minor: head.minorVersion)
                let method = HTTPMethod(rawValue: head.method)
                context.fireChannelRead(
                    wrapInboundOut(
                        .head(
                            HTTPRequestHead(
                                version: version, method: method, uri: head.target,
                                headers: HTTPHeaders(head.fields)))))
                if !hasBody { end(nil, context) }
                return .continue
            }
        case .body(let remaining):
            guard let count = forward(upTo: remaining, from: &buffer, context) else { return .needMoreData }
            if count == remaining {
                end(nil, context)
            } else {
                state = .body(remaining: remaining - count)
            }
            return .continue
        case .chunkSize:
            guard let size = try Self.chunkSize(&buffer) else { return .needMoreData }
            state = size == 0 ? .trailers(scanned: 0) : .chunkData(remaining: size)
            return .continue
        case .chunkData(let remaining):
            guard let count = forward(upTo: remaining, from: &buffer, context) else { return .needMoreData }
            state = count == remaining ? .chunkEnd : .chunkData(remaining: remaining - count)
            return .continue
        case .chunkEnd:
            guard buffer.readableBytes >= 2 else { return .needMoreData }
            guard buffer.readInteger(as: UInt16.self) == UInt16(0x0D0A) else { throw HTTPParserError.invalidChunkSize }
            state = .chunkSize
            return .continue
        case .trailers(var scanned):
            let outcome = buffer.withUnsafeReadableBytes { parser.parseTrailers($0, scanned: &scanned) }
            switch outcome {
            case .incomplete:
                state = .trailers(scanned: scanned)
                return .needMoreData
            case .refused(let refusal):
                throw Self.error(for: refusal)
            case .fields(let fields, let length):
                buffer.moveReaderIndex(forwardBy: length)
                end(fields.isEmpty ? nil : HTTPHeaders(fields), context)
                return .continue
            }
        }
    }

    /// At the connection's end, what is complete is read; a request cut short is an error, as in SwiftNIO's decoder.
    package mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if case .head = state, buffer.readableBytes == 0 { return .needMoreData }
        throw HTTPParserError.invalidEOFState
    }

    /// Passes on up to `remaining` bytes of body that `buffer` holds, and says how many; nil when it holds none.
    private func forward(upTo remaining: Int, from buffer: inout ByteBuffer, _ context: ChannelHandlerContext) -> Int? {
        guard buffer.readableBytes > 0, let bytes = buffer.readSlice(length: min(remaining, buffer.readableBytes))
        else { return nil }
        context.fireChannelRead(wrapInboundOut(.body(bytes)))
        return bytes.readableBytes
    }

    private mutating func end(_ trailers: HTTPHeaders?, _ context: ChannelHandlerContext) {
        state = .head(scanned: 0)
        context.fireChannelRead(wrapInboundOut(.end(trailers)))
    }

    /// Reads a chunk-size line (RFC 9112 §7.1: hex digits, then extensions, which are checked and dropped); nil while
    /// the line is incomplete.
    private static func chunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let line: (size: Int, length: Int)? = try buffer.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return nil }
            let window = min(bytes.count, maxChunkLine)
            guard let lf = memchr(base, Int32(UInt8(ascii: "\n")), window) else {
                if bytes.count >= maxChunkLine { throw HTTPParserError.invalidChunkSize }
                return nil
            }
            let end = base.distance(to: UnsafeRawPointer(lf))
            guard end > 0, bytes[end - 1] == UInt8(ascii: "\r") else { throw HTTPParserError.invalidChunkSize }
            var size = 0
            var position = 0
            while position < end - 1, let digit = hexDigit(bytes[position]) {
                guard position < 15 else { throw HTTPParserError.invalidChunkSize }
                size = size << 4 | digit
                position += 1
            }
            guard position > 0, extensionsAreValid(UnsafeRawBufferPointer(rebasing: bytes[position..<(end - 1)])) else {
                throw HTTPParserError.invalidChunkSize
            }
            return (size, end + 1)
        }
        guard let line else { return nil }
        buffer.moveReaderIndex(forwardBy: line.length)
        return line.size
    }

    /// `chunk-ext` (RFC 9112 §7.1.1): empty, or blanks then `;` and text without controls.
    private static func extensionsAreValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let first = bytes.firstIndex(where: { !ByteClass.isBlank($0) }) else { return bytes.isEmpty }
        return bytes[first] == UInt8(ascii: ";") && ByteClass.allFieldValue(bytes)
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// The `HTTPParserError` a refusal is thrown as: the server answers every one with 400 and closes.
    private static func error(for refusal: RequestHeadParser.Refusal) -> HTTPParserError {
        if refusal.tooLarge { return .headerOverflow }
        return refusal.status == 400 ? .invalidCharactersUsed : .invalidHeaderToken
    }
}
