import NIOCore
import NIOHTTP1

/// Carries one exchange at a time over a keep-alive HTTP/1.1 connection to the upstream, on the connection's event
/// loop: writes the request (``UpstreamRequestBytes``, with one write) and tells the connection's response decoder
/// of it (``UpstreamResponseDecoder``), gives the answer's head and a body that streams as it is read, and reports when the
/// connection can take the next exchange. A short answer of known length (at most ``shortAnswerBytes``, not an
/// event stream) is given whole, once its last byte is read: it comes with its head in practice, and the proxy
/// then answers in one write instead of relaying a stream.
///
/// The body reaches the proxy through a back-pressured sequence (SwiftNIO's `NIOThrowingAsyncSequenceProducer`):
/// when the proxy's client reads slower than the upstream writes, this handler stops reading the socket until the
/// proxy has taken what is buffered, so a slow client never makes the proxy hold a whole answer.
///
/// A connection is reused only after an answer that ended cleanly, that the upstream did not mark `close`, to a
/// request that was written in full. An answer whose body the proxy stops reading (its client went away, or the
/// proxy refused the answer) ends the connection: the rest of that body would otherwise precede the next answer.
final class UpstreamExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The answer to one exchange: its head and its body (whole, or still streaming).
    struct Answer: Sendable {
        let head: HTTPResponseHead
        let body: UpstreamBody
    }

    /// Called once per exchange, on the connection's event loop, with the answer's head and body, or with why
    /// there is none (a ``Failure``).
    typealias Reply = (Result<Answer, any Error>) -> Void

    /// The longest `Content-Length` of an answer given whole.
    static let shortAnswerBytes = 64 << 10

    /// Why an exchange got no answer.
    enum Failure: Error {
        /// The answer's head did not come before the deadline.
        case timedOut
        /// The connection ended or failed before the answer's head.
        case closed
    }

    private enum State {
        case idle
        case awaitingHead(Reply)
        case collecting(Reply, HTTPResponseHead, ByteBuffer)
        case streaming(UpstreamChannelBody.Source, keepAlive: Bool)
        case closed
    }

    private var state = State.idle
    /// The connection's response decoder, told of each request's method.
    private let decoder: HTTPResponseDecoder
    private var context: ChannelHandlerContext?
    /// Numbers the exchanges, so that what the proxy does with an earlier body (stops reading it, asks for more)
    /// never touches a later exchange on the same connection.
    private var exchange = 0
    /// Whether the body's reader wants more; while it does not, reads from the socket are held back.
    private var wantsMore = true
    private var heldRead = false
    private var requestWritten = false
    /// The exchange's deadline for its answer's head.
    private var deadline = NIODeadline.distantFuture
    /// The one pending check of ``deadline``, and when it is due (see ``armHeadCheck(_:_:)``).
    private var headCheck: Scheduled<Void>?
    private var headCheckDue: NIODeadline?
    /// Called on the event loop when the connection is free for the next exchange (the pool takes it back).
    /// Cleared when the handler leaves the pipeline, which breaks the cycle through the pool's handle on it.
    var onReusable: (() -> Void)?

    init(decoder: HTTPResponseDecoder) { self.decoder = decoder }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        onReusable = nil
        headCheck?.cancel()
        headCheck = nil
    }

    /// Writes `request`; `reply` is called with the answer's head, or with a ``Failure`` (``Failure/timedOut``
    /// when no head came before `deadline`). Returns false, having done nothing, when the connection cannot take
    /// an exchange (it closed while idle, or one is in progress): nothing was sent, so another may be tried.
    func begin(_ request: UpstreamRequestBytes, deadline: NIODeadline, reply: @escaping Reply) -> Bool {
        guard case .idle = state, let context, context.channel.isActive else { return false }
        exchange &+= 1
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        let number = exchange
        state = .awaitingHead(reply)
        self.deadline = deadline
        armHeadCheck(deadline, context)
        requestWritten = false
        wantsMore = true
        decoder.write(data: .head(request.head))
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(request.bytes), promise: written)
        written.futureResult.whenComplete { result in
            let handler = this.value
            guard handler.exchange == number else { return }
            switch result {
            case .success: handler.requestWritten = true
            case .failure: handler.fail(Failure.closed)
            }
        }
        return true
    }

    /// Makes sure a check of the head's deadline comes no later than `deadline`. One check is pending at a time:
    /// when it comes due it fails an exchange still waiting for its head past its deadline, or sets the next
    /// check from the deadline of the exchange in progress. A connection whose answers come in time (nearly all)
    /// thus schedules one check per timeout, not one per request, which a timer set and cancelled for each
    /// request would (with a future each).
    private func armHeadCheck(_ deadline: NIODeadline, _ context: ChannelHandlerContext) {
        if let due = headCheckDue, due <= deadline { return }
        headCheck?.cancel()
        headCheckDue = deadline
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        headCheck = context.eventLoop.scheduleTask(deadline: deadline) { this.value.checkHead() }
    }

    private func checkHead() {
        headCheck = nil
        headCheckDue = nil
        guard case .awaitingHead = state, let context else { return }
        if NIODeadline.now() >= deadline { fail(Failure.timedOut) } else { armHeadCheck(deadline, context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard case .awaitingHead(let reply) = state else {
                // An answer nobody asked for: the connection is out of step.
                fail(Failure.closed)
                return
            }
            if let length = head.headers.first(name: "content-length").flatMap(Int.init),
                (0...Self.shortAnswerBytes).contains(length),
                !ProxyHeaders.isMediaType(head.headers.first(name: "content-type"), "text/event-stream")
            {
                state = .collecting(reply, head, context.channel.allocator.buffer(capacity: length))
                return
            }
            let delegate = UpstreamChannelBody.Delegate(
                handler: NIOLoopBound(self, eventLoop: context.eventLoop), exchange: exchange)
            let made = UpstreamChannelBody.make(delegate: delegate)
            state = .streaming(made.source, keepAlive: head.isKeepAlive)
            reply(.success(Answer(head: head, body: .channel(made.body))))
        case .body(var buffer):
            switch state {
            case .collecting(let reply, let head, var collected):
                state = .idle  // no copy of `collected` while it grows
                collected.writeBuffer(&buffer)
                state = .collecting(reply, head, collected)
            case .streaming(let source, _):
                switch source.yield(buffer) {
                case .produceMore: break
                case .stopProducing: wantsMore = false
                case .dropped: fail(Failure.closed)
                }
            case .idle, .awaitingHead, .closed:
                break
            }
        case .end:
            // Back in the pool before the body's reader learns the body ended, so that a request it sends next
            // finds the connection free.
            switch state {
            case .collecting(let reply, let head, let collected):
                finishExchange(keepAlive: head.isKeepAlive)
                reply(.success(Answer(head: head, body: .bytes(collected))))
            case .streaming(let source, let keepAlive):
                finishExchange(keepAlive: keepAlive)
                source.finish()
            case .idle, .awaitingHead, .closed:
                break
            }
        }
    }

    /// The answer ended: the connection is free for the next exchange, or closed when it cannot carry one.
    private func finishExchange(keepAlive: Bool) {
        state = .idle
        resume(exchange: exchange)
        if keepAlive, requestWritten { onReusable?() } else { fail(Failure.closed) }
    }

    func read(context: ChannelHandlerContext) {
        if wantsMore { context.read() } else { heldRead = true }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(Failure.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(Failure.closed)
    }

    /// The body's reader of `exchange` wants more: reads resume.
    func resume(exchange number: Int) {
        guard number == exchange, !wantsMore || heldRead else { return }
        wantsMore = true
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }

    /// The body's reader of `exchange` stopped before the end: the connection cannot carry another exchange.
    func abandon(exchange number: Int) {
        guard number == exchange, case .streaming = state else { return }
        fail(Failure.closed)
    }

    /// Ends the exchange in progress with `failure` (its reply, or the body) and closes the connection.
    private func fail(_ failure: Failure) {
        let previous = state
        state = .closed
        headCheck?.cancel()
        headCheck = nil
        headCheckDue = nil
        switch previous {
        case .awaitingHead(let reply), .collecting(let reply, _, _):
            reply(.failure(failure))
        case .streaming(let source, _):
            source.finish(failure)
        case .idle, .closed:
            break
        }
        context?.close(promise: nil)
    }
}
