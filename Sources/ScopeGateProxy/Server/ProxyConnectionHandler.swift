import Dispatch
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ScopeGateRequestAuthorization

/// Answers, on one client connection's event loop, the requests ``MCPProxy/answerAtOnce(_:body:on:reply:)`` can
/// answer without a task, and hands every other request to Hummingbird's pipeline behind it. It sits right after
/// SwiftNIO's HTTP/1 request decoder, before Hummingbird converts requests to `HTTPTypes`: a request answered here
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
    init(proxy: MCPProxy, serverName: String?, idleTimeout: TimeAmount?) {
        self.proxy = proxy
        self.serverName = serverName
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

    /// Hummingbird's answers pass here on their way to the encoder; the end of one is counted.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // Never below zero: an answer Hummingbird writes to no request of ours (a parse error's 400) must not let
        // a later request be answered here before an earlier one there.
        handedOn = max(0, handedOn - 1)
        ended(data, promise: promise, flush: false, context)
    }

    /// Writes an answer's end (`data`), then closes the connection when graceful shutdown waited for it, or sets
    /// the idle clock when nothing else is being answered.
    private func ended(
        _ data: NIOAny, promise: EventLoopPromise<Void>?, flush: Bool, _ context: ChannelHandlerContext
    ) {
        switch activity.answered(now: .now()) {
        case .close:
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        case .checkIdle(let deadline):
            flush ? context.writeAndFlush(data, promise: promise) : context.write(data, promise: promise)
            scheduleIdleCheck(at: deadline, context)
        case .carryOn:
            flush ? context.writeAndFlush(data, promise: promise) : context.write(data, promise: promise)
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
        state = .passing
        passOn(.head(head), context)
        if let body, body.readableBytes > 0 { passOn(.body(body), context) }
    }

    private func passOn(_ part: HTTPServerRequestPart, _ context: ChannelHandlerContext) {
        passedOn = true
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// Writes the answer to the request being answered here; its latency (to the head) is recorded by status.
    /// Its fields are written as they are (SwiftNIO's type, no conversion), with `Server` set and `Content-Length`
    /// added when missing; the reason phrase is HTTPTypes', as on the answers Hummingbird writes.
    private func write(_ answer: ProxyAnswer, started: UInt64) {
        guard let context else { return }  // the connection closed meanwhile
        guard case .whole(let buffer) = answer.body else {
            writeStreamed(answer, started: started, context)
            return
        }
        var fields = answer.fields
        if let serverName { fields.replaceOrAdd(name: "Server", value: serverName) }
        if !fields.contains(name: "content-length") {
            fields.add(name: "Content-Length", value: String(buffer.readableBytes))
        }
        let status = HTTPResponseStatus(
            statusCode: answer.status, reasonPhrase: HTTPResponse.Status(code: answer.status).reasonPhrase)
        writeHead(HTTPResponseHead(version: .http1_1, status: status, headers: fields), started: started, context)
        if buffer.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        ended(wrapOutboundOut(.end(nil)), promise: nil, flush: true, context)
        finished(context)
    }

    private func writeHead(_ head: HTTPResponseHead, started: UInt64, _ context: ChannelHandlerContext) {
        proxy.operations.metrics.requestCompleted(
            status: Int(head.status.code), nanoseconds: DispatchTime.now().uptimeNanoseconds &- started)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
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
