import Dispatch
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ScopeGateRequestAuthorization

/// Answers, on one client connection's event loop, the requests ``MCPProxy/answerAtOnce(_:body:on:reply:)`` can
/// answer without a task, and hands every other request to Hummingbird's pipeline behind it. It sits right after
/// the request decoder (``HTTP1RequestDecoder``), before Hummingbird converts requests to `HTTPTypes`: a request answered here
/// is read and answered in SwiftNIO's types, so it pays for neither conversion nor for Hummingbird's handlers.
/// It sees both kinds of request, so it keeps the connection's idle timeout and graceful close for both
/// (``ConnectionActivity``), in place of Hummingbird's connection-state handler, which ``ProxyServer`` removes.
///
/// A `POST` is held until its end, then offered to the proxy; a request the proxy declines is passed on whole, as
/// is every request while Hummingbird still answers an earlier one (answers keep the requests' order). While it
/// answers a request itself, what the client sends next waits here, and once something waits the socket is not
/// read further. A whole answer is written at once; a streamed one (an event stream, a list answer still arriving)
/// is written by a task, as Hummingbird writes a `Response`.
final class ProxyConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// A request Hummingbird answers: its parts pass on.
        case passing
        /// A request that may be answered here, held until its end.
        case holding(HTTPRequestHead, ByteBuffer, started: UInt64)
        /// A request answered here.
        case answering
    }

    let proxy: MCPProxy
    /// The `Server` header of the answers written here (Hummingbird adds its own to the others).
    let serverName: String?
    /// SwiftNIO's response encoder's context: bytes written to it go to the socket past the encoder. Whole answers
    /// and the heads of answers to `HEAD` are written there as bytes (``ResponseHeadBytes``); everything else goes
    /// through the encoder. The encoder is not paired with the request decoder (``ProxyServer``), so it keeps no
    /// queue of requests that bytes written past it would leave unanswered, and it frames each answer from its
    /// own head alone.
    private let wire: ChannelHandlerContext
    /// What the answer to each request handed to Hummingbird needs from this handler, for those whose answers
    /// have not started.
    private var handedOnRequests = CircularBuffer<HandedOn>()
    /// How the answer Hummingbird is writing is written, when it answers a `HEAD` request.
    private var headAnswer = HeadAnswer.none
    /// Whether the connection closes once the answer Hummingbird is writing has been written.
    private var closeAfterAnswer = false

    private struct HandedOn {
        /// A `HEAD` request: the encoder no longer learns that from the decoder, so an answer to one has its head
        /// written here and its body dropped.
        var isHEAD: Bool
        /// The connection closes after the answer (RFC 9112 §9.3): an HTTP/1.0 request without `keep-alive`, or
        /// a `close` option in any spelling. Hummingbird closes only for a `Connection` field that is exactly
        /// `close`, and knows no HTTP version.
        var closes: Bool
    }

    private enum HeadAnswer {
        /// Not an answer to `HEAD`: every part goes through the encoder.
        case none
        /// An HTTP/1.1 head, written here as bytes (``ResponseHeadBytes``): the encoder would frame a head without a
        /// length as chunked, and end it with the last chunk. Its body and end go nowhere.
        case headAsBytes
        /// Another version's head, which the encoder frames without chunks: the head and end go through it, the
        /// body nowhere.
        case throughEncoder
    }
    private var state = State.idle
    private var context: ChannelHandlerContext?
    /// Requests handed to Hummingbird whose answers have not ended.
    private var handedOn = 0
    /// What the client sent that is not processed yet.
    private var waiting = CircularBuffer<HTTPServerRequestPart>()
    private var draining = false
    private var heldRead = false
    /// Whether parts were passed on since the last read-complete event: parts passed on outside a read (those
    /// that waited) need one of their own, which Hummingbird's channel waits for to take them.
    private var passedOn = false
    /// The connection's requests and answers, both ways, for its idle timeout and graceful close.
    private var activity: ConnectionActivity
    private var idleCheck: Scheduled<Void>?

    /// `idleTimeout`: how long the connection may go without a request part while nothing is being answered
    /// (nil: no limit).
    init(proxy: MCPProxy, serverName: String?, idleTimeout: TimeAmount?, wire: ChannelHandlerContext) {
        self.proxy = proxy
        self.serverName = serverName
        self.wire = wire
        activity = ConnectionActivity(idleTimeout: idleTimeout, now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { startIdleClock(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        startIdleClock(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    /// Graceful shutdown: the connection closes now when idle, else after its last answer (either way's).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        if activity.quiesce() { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        activity.read(part, now: .now())
        waiting.append(part)
        drain(context)
    }

    /// Passed on only after parts were: Hummingbird's channel takes its parts on it, and a read whose request is
    /// answered here passed nothing on.
    func channelReadComplete(context: ChannelHandlerContext) {
        guard passedOn else { return }
        passedOn = false
        context.fireChannelReadComplete()
    }

    /// Reads are held back only while requests already wait: a client that waits for each answer (most do) costs
    /// no change of the socket's interest in reading per request.
    func read(context: ChannelHandlerContext) {
        if isAnswering, !waiting.isEmpty { heldRead = true } else { context.read() }
    }

    /// Hummingbird's answers pass here on their way to the encoder; the end of one is counted. An answer to a
    /// `HEAD` request keeps its head, framing fields included, and loses its body, as a paired encoder would
    /// (RFC 9110 §9.3.2): nothing follows the head.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            // An interim answer (1xx but 101) is followed by the final one, which the request's entry is for.
            var data = data
            if head.status.code >= 200 || head.status.code == 101, let request = handedOnRequests.popFirst() {
                if request.isHEAD { headAnswer = head.version == .http1_1 ? .headAsBytes : .throughEncoder }
                if request.closes {
                    closeAfterAnswer = true
                    if head.isKeepAlive {  // the answer says so (RFC 9112 §9.6)
                        head.headers.add(name: "Connection", value: "close")
                        data = wrapOutboundOut(.head(head))
                    }
                }
            }
            guard headAnswer == .headAsBytes,
                let bytes = ResponseHeadBytes.encode(
                    status: head.status, fields: head.headers, server: nil, body: nil,
                    allocator: context.channel.allocator)
            else { return context.write(data, promise: promise) }
            wire.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
        case .body:
            guard headAnswer == .none else {
                promise?.succeed(())
                return
            }
            context.write(data, promise: promise)
        case .end:
            // Never below zero: an answer Hummingbird writes to no request of ours (a parse error's 400) must not
            // let a later request be answered here before an earlier one there.
            handedOn = max(0, handedOn - 1)
            let answered = headAnswer
            headAnswer = .none
            if answered == .headAsBytes {
                promise?.succeed(())
                ended(nil, promise: nil, flush: false, context)
            } else {
                ended(data, promise: promise, flush: false, context)
            }
            if closeAfterAnswer {
                closeAfterAnswer = false
                closeWhenWritten(context)
            }
        }
    }

    /// Closes the connection once everything written to it so far has gone out: an empty write past the encoder
    /// completes after the writes before it, while closing at once would fail those still pending.
    private func closeWhenWritten(_ context: ChannelHandlerContext) {
        let written = context.eventLoop.makePromise(of: Void.self)
        wire.writeAndFlush(NIOAny(IOData.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: written)
        written.futureResult.whenComplete { _ in context.close(promise: nil) }
    }

    /// Writes an answer's end (`data`; nil when the answer is all written), then closes the connection when
    /// graceful shutdown waited for it, or sets the idle clock when nothing else is being answered.
    private func ended(
        _ data: NIOAny?, promise: EventLoopPromise<Void>?, flush: Bool, _ context: ChannelHandlerContext
    ) {
        let action = activity.answered(now: .now())
        if let data { context.write(data, promise: promise) }
        switch action {
        case .close:
            context.flush()
            context.close(promise: nil)
        case .checkIdle(let deadline):
            if flush { context.flush() }
            scheduleIdleCheck(at: deadline, context)
        case .carryOn:
            if flush { context.flush() }
        }
    }

    private func startIdleClock(_ context: ChannelHandlerContext) {
        guard let timeout = activity.idleTimeout else { return }
        scheduleIdleCheck(at: .now() + timeout, context)
    }

    /// One idle check is pending at a time; when it comes due it sets the next from the last activity.
    private func scheduleIdleCheck(at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        guard idleCheck == nil else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) { handler.value.checkIdle() }
    }

    private func checkIdle() {
        idleCheck = nil
        guard let context else { return }
        switch activity.check(now: .now()) {
        case .close: context.close(promise: nil)
        case .checkAgain(let deadline): scheduleIdleCheck(at: deadline, context)
        case .wait: break
        }
    }

    /// Processes what waits, in order, until a request is being answered here.
    private func drain(_ context: ChannelHandlerContext) {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        while !isAnswering, let part = waiting.popFirst() { process(part, context) }
    }

    private var isAnswering: Bool {
        if case .answering = state { return true }
        return false
    }

    private func process(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        switch (state, part) {
        case (.idle, .head(let head)):
            // A request that asks for the connection to close after its answer is Hummingbird's: its responder
            // does that.
            if handedOn == 0, head.method == .POST, head.isKeepAlive {
                state = .holding(
                    head, context.channel.allocator.buffer(capacity: 0), started: DispatchTime.now().uptimeNanoseconds)
            } else {
                handOn(head, body: nil, context)
            }
        case (.holding(let head, var body, let started), .body(var chunk)):
            state = .idle  // `body` is not copied as it grows
            body.writeBuffer(&chunk)
            if body.readableBytes > proxy.configuration.authorization.limits.maxBodyBytes {
                handOn(head, body: body, context)  // the responder refuses it (413)
            } else {
                state = .holding(head, body, started: started)
            }
        case (.holding(let head, let body, let started), .end):
            state = .answering
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let taken = proxy.answerAtOnce(head, body: body, on: context.eventLoop) { answer in
                handler.value.write(answer, started: started)
            }
            if !taken {
                handOn(head, body: body, context)
                passOn(part, context)
                state = .idle
            }
        case (.passing, .end):
            state = .idle
            passOn(part, context)
        case (.passing, _), (.idle, _), (.holding, .head), (.answering, _):
            // Out of step (a body without a head); the responder behind answers it as it would.
            passOn(part, context)
        }
    }

    /// Passes a request on to Hummingbird's responder.
    private func handOn(_ head: HTTPRequestHead, body: ByteBuffer?, _ context: ChannelHandlerContext) {
        handedOn += 1
        handedOnRequests.append(HandedOn(isHEAD: head.method == .HEAD, closes: !head.isKeepAlive))
        state = .passing
        passOn(.head(head), context)
        if let body, body.readableBytes > 0 { passOn(.body(body), context) }
    }

    private func passOn(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        passedOn = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Writes the answer to the request being answered here; its latency (to the head) is recorded by status.
    /// A whole answer is written past the encoder, head and body as one buffer (``ResponseHeadBytes``): its fields
    /// as they are (SwiftNIO's type, no conversion), with `Server` set and `Content-Length` added when missing; the
    /// reason phrase is HTTPTypes', as on the answers Hummingbird writes.
    private func write(_ answer: ProxyAnswer, started: UInt64) {
        guard let context else { return }  // the connection closed meanwhile
        guard case .whole(let buffer) = answer.body else {
            writeStreamed(answer, started: started, context)
            return
        }
        let status = HTTPResponseStatus(
            statusCode: answer.status, reasonPhrase: HTTPResponse.Status(code: answer.status).reasonPhrase)
        recordCompletion(status: answer.status, started: started)
        if let bytes = ResponseHeadBytes.encode(
            status: status, fields: answer.fields, server: serverName, body: buffer,
            allocator: context.channel.allocator)
        {
            wire.write(NIOAny(IOData.byteBuffer(bytes)), promise: nil)
            ended(nil, promise: nil, flush: true, context)
        } else {
            // Cannot happen (the room is an upper bound); the connection cannot carry a part of an answer.
            context.close(promise: nil)
        }
        finished(context)
    }

    private func writeHead(_ head: HTTPResponseHead, started: UInt64, _ context: ChannelHandlerContext) {
        recordCompletion(status: Int(head.status.code), started: started)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
    }

    /// Records an answer's latency, to its head, by status.
    private func recordCompletion(status: Int, started: UInt64) {
        proxy.operations.metrics.requestCompleted(
            status: status, nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
    }

    /// Writes an answer whose body is still arriving, from a task, through the proxy's `Response` for it.
    private func writeStreamed(_ answer: ProxyAnswer, started: UInt64, _ context: ChannelHandlerContext) {
        let (proxy, serverName) = (proxy, serverName)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            var response = await proxy.response(for: answer)
            if let serverName { response.headers[.server] = serverName }
            let head = HTTPResponseHead(response.head)
            do {
                try await handler.eventLoop.submit {
                    guard let context = handler.value.context else { throw ChannelError.ioOnClosedChannel }
                    handler.value.writeHead(head, started: started, context)
                    context.flush()  // the head goes out at once, as Hummingbird's writer sends it
                }.get()
                try await response.body.write(Writer(handler: handler))
            } catch {
                // The client went away or the body failed: the connection cannot carry another answer.
                handler.eventLoop.execute { handler.value.context?.close(promise: nil) }
            }
        }
    }

    /// The request answered here is done: what waits is processed, and the socket is read again.
    private func finished(_ context: ChannelHandlerContext) {
        state = .idle
        drain(context)
        if passedOn, !draining {
            passedOn = false
            context.fireChannelReadComplete()
        }
        if heldRead, !isAnswering {
            heldRead = false
            context.read()
        }
    }

    /// Writes a streamed body to the connection, each piece once the one before it is written.
    struct Writer: ResponseBodyWriter {
        let handler: NIOLoopBound<ProxyConnectionHandler>

        mutating func write(_ buffer: ByteBuffer) async throws {
            let handler = handler
            try await handler.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                guard let context = handler.value.context else {
                    return handler.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return context.writeAndFlush(handler.value.wrapOutboundOut(.body(.byteBuffer(buffer))))
            }.get()
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
            let handler = handler
            try await handler.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
                guard let context = handler.value.context else {
                    return handler.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                let written = context.eventLoop.makePromise(of: Void.self)
                let end = HTTPServerResponsePart.end(trailingHeaders.map(HTTPHeaders.init))
                handler.value.ended(handler.value.wrapOutboundOut(end), promise: written, flush: true, context)
                handler.value.finished(context)
                return written.futureResult
            }.get()
        }
    }
}
