import NIOCore
import ScopeGateHTTP1

/// One client connection of an ``AuthzServer``, on its event loop: reads requests from the connection's bytes
/// (``RequestHeadParser``) and writes each answer (``AnswerWriter``), in order. For each request it
/// 1. asks the service whether the head alone decides the answer (a head over the limits: 431), before the body
///    is read or a token looked at;
/// 2. keeps the body of a decision request; other paths' bodies are dropped as they arrive, and so is a body over
///    the limit, on any path, whose answer is 413;
/// 3. at the request's end, asks the service for the answer. When the service answers at once (every path but a
///    decision whose token must be verified), the answer is written on the spot; answers to pipelined requests
///    read together are flushed together.
///
/// While a task prepares an answer, the handler holds further reads, so pipelined requests wait in order and the
/// bytes held are bounded by one read. A head the parser refuses is answered (400, or 411 for a body without a
/// length) and the connection closed.
final class AuthzConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request whose head is read and whose body is still arriving (or just complete).
    private struct Pending {
        var head: RequestHeadParser.Head
        var request: AuthzHTTPRequest.Head
        /// An answer decided before the request's end (431, 413).
        var early: AuthzHTTPAnswer?
        /// Whether the body is kept (a decision request within the limit).
        var keepsBody: Bool
        /// Body bytes not yet read.
        var remaining: Int
        var body: [UInt8] = []
    }

    private let service: AuthzService
    private let maxBodyBytes: Int
    private let parser: RequestHeadParser
    /// Bytes received and not yet read as requests.
    private var received: ByteBuffer?
    /// How far the parser has looked for the end of the head at the start of `received`.
    private var scanned = 0
    private var pending: Pending?
    /// A task is preparing an answer: reads are held and no further request is read until it is written.
    private var answering = false
    private var readHeld = false
    /// The connection closes after the answer being written; nothing more is read.
    private var closing = false
    /// The server is shutting down: the next answer says `Connection: close`, and an idle connection closes.
    private var quiescing = false

    init(service: AuthzService, maxBodyBytes: Int, parser: RequestHeadParser) {
        self.service = service
        self.maxBodyBytes = maxBodyBytes
        self.parser = parser
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received?.writeBuffer(&bytes)
        }
        readRequests(context: context)
    }

    /// Holds reads while an answer is being prepared.
    func read(context: ChannelHandlerContext) {
        if answering {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Reads and answers every complete request received, until one needs a task or the connection is closing.
    private func readRequests(context: ChannelHandlerContext) {
        var wrote = false
        defer {
            if wrote { context.flush() }
            compact()
        }
        while !answering, !closing {
            if pending == nil {
                guard let received, received.readableBytes > 0 else { return }
                let outcome = received.withUnsafeReadableBytes { parser.parse($0, scanned: &scanned) }
                switch outcome {
                case .incomplete:
                    return
                case .refused(let refusal):
                    let answer = AuthzHTTPAnswer(
                        status: refusal.status, headers: [("Content-Type", "text/plain; charset=utf-8")],
                        body: Array("bad request: \(refusal.message)\n".utf8))
                    write(answer, minorVersion: 1, keepAlive: false, withBody: true, context: context)
                    return
                case .head(let head, let length):
                    self.received?.moveReaderIndex(forwardBy: length)
                    scanned = 0
                    pending = start(head)
                }
            }
            guard var request = pending else { return }
            if request.remaining > 0 {
                let available = min(request.remaining, received?.readableBytes ?? 0)
                if request.keepsBody, let chunk = received?.readBytes(length: available) {
                    request.body.append(contentsOf: chunk)
                } else {
                    received?.moveReaderIndex(forwardBy: available)
                }
                request.remaining -= available
                pending = request
                if request.remaining > 0 { return }
            }
            pending = nil
            wrote = true
            answer(request, context: context)
        }
    }

    /// A request whose head was just read: what the head alone decides, and whether its body is kept.
    private func start(_ head: RequestHeadParser.Head) -> Pending {
        let request = AuthzHTTPRequest.Head(method: head.method, target: head.target, fields: head.fields)
        let path = request.path
        var early = service.answerToHead(request)
        if early == nil, head.contentLength > maxBodyBytes { early = service.answerToOversizedBody(path: path) }
        return Pending(
            head: head, request: request, early: early, keepsBody: early == nil && service.isDecisionPath(path),
            remaining: head.contentLength)
    }

    /// Answers a complete request: at once when the service can, else from a task, holding the connection's
    /// further requests until the answer is written.
    private func answer(_ request: Pending, context: ChannelHandlerContext) {
        let head = request.head
        let withBody = head.method != "HEAD"
        if let early = request.early {
            write(
                early, minorVersion: head.minorVersion, keepAlive: head.keepAlive, withBody: withBody, context: context)
            return
        }
        let exchange = AuthzHTTPRequest(head: request.request, body: request.body)
        if let answer = service.respondAtOnce(to: exchange) {
            write(
                answer, minorVersion: head.minorVersion, keepAlive: head.keepAlive, withBody: withBody, context: context
            )
            return
        }
        // A token to verify: the service may fetch keys, so the answer comes from a task.
        answering = true
        let service = self.service
        let answer = context.eventLoop.makePromise(of: AuthzHTTPAnswer.self)
        answer.completeWithTask { await service.respond(to: exchange) }
        answer.futureResult.assumeIsolated().whenSuccess { answer in
            self.answering = false
            self.write(
                answer, minorVersion: head.minorVersion, keepAlive: head.keepAlive, withBody: withBody,
                context: context)
            context.flush()
            if self.readHeld {
                self.readHeld = false
                context.read()
            }
            self.readRequests(context: context)
        }
    }

    /// Writes an answer (not flushed when the connection stays open); closes the connection after it when it does
    /// not stay open or the server is shutting down.
    private func write(
        _ answer: AuthzHTTPAnswer, minorVersion: Int, keepAlive: Bool, withBody: Bool, context: ChannelHandlerContext
    ) {
        let keepAlive = keepAlive && !quiescing
        var out = context.channel.allocator.buffer(capacity: 192 + answer.body.count)
        AnswerWriter.write(answer, minorVersion: minorVersion, keepAlive: keepAlive, withBody: withBody, into: &out)
        guard keepAlive else {
            closing = true
            context.writeAndFlush(wrapOutboundOut(out)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
            return
        }
        context.write(wrapOutboundOut(out), promise: nil)
    }

    /// Frees the bytes already read: all of them when nothing is left, else once they are many.
    private func compact() {
        guard let received else { return }
        if received.readableBytes == 0 {
            self.received = nil
        } else if received.readerIndex > 64 << 10 {
            self.received?.discardReadBytes()
        }
    }

    /// Closes a connection that has sent nothing for the idle timeout, unless its answer is being prepared; on
    /// shutdown, closes the connection at once when no request is under way.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if answering { return }
            context.close(promise: nil)
            return
        }
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if !answering, pending == nil, (received?.readableBytes ?? 0) == 0 { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        context.fireChannelInactive()
    }

    /// A connection error (a reset, a failed write): the connection is closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
