import NIOCore
import NIOHTTP1

/// One client connection of an ``AuthzServer``, on its event loop. `HTTPServerPipelineHandler` before it hands
/// over one request at a time; for each, this handler
/// 1. asks the service whether the head alone decides the answer (a head over the limits: 431), before the body
///    is read or a token looked at;
/// 2. keeps the body of a decision request, up to the limit (beyond it the answer is 413 and the rest is
///    dropped); other paths' bodies are dropped as they arrive;
/// 3. at the request's end, asks the service for the answer and writes it with its `Content-Length`.
final class AuthzConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// Reading a request: its head, the body so far (nil: not kept), an answer decided before its end.
        case reading(HTTPRequestHead, AuthzHTTPRequest.Head, body: ByteBuffer?, early: AuthzHTTPAnswer?)
        /// The request is read; its answer is being prepared or written.
        case answering
    }

    private let service: AuthzService
    private let maxBodyBytes: Int
    private var state = State.idle

    init(service: AuthzService, maxBodyBytes: Int) {
        self.service = service
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            let request = AuthzHTTPRequest.Head(
                method: head.method.rawValue, target: head.uri, fields: head.headers.map { ($0.name, $0.value) })
            let early = service.answerToHead(request)
            let keepsBody = early == nil && service.isDecisionPath(request.path)
            state = .reading(
                head, request, body: keepsBody ? context.channel.allocator.buffer(capacity: 0) : nil, early: early)
        case .body(var part):
            guard case .reading(let head, let request, var body?, nil) = state else { return }
            state = .answering  // drops the state's reference, so the buffer grows in place
            if body.readableBytes + part.readableBytes > maxBodyBytes {
                state = .reading(head, request, body: nil, early: service.answerToOversizedBody())
            } else {
                body.writeBuffer(&part)
                state = .reading(head, request, body: body, early: nil)
            }
        case .end:
            guard case .reading(let head, let request, let body, let early) = state else { return }
            state = .answering
            if let early {
                write(early, to: head, context: context)
                return
            }
            let exchange = AuthzHTTPRequest(head: request, body: body.map { Array($0.readableBytesView) } ?? [])
            if let answer = service.respondAtOnce(to: exchange) {
                write(answer, to: head, context: context)
                return
            }
            // A token to verify: the service may fetch keys, so the answer comes from a task.
            let service = self.service
            let answer = context.eventLoop.makePromise(of: AuthzHTTPAnswer.self)
            answer.completeWithTask { await service.respond(to: exchange) }
            answer.futureResult.assumeIsolated().whenSuccess { answer in
                self.write(answer, to: head, context: context)
            }
        }
    }

    /// Closes a connection that has sent nothing for the idle timeout, unless its answer is being prepared.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if case .answering = state { return }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A connection error (a reset, a failed write): the connection is closed; SwiftNIO's protocol error handler
    /// before this one has already answered a malformed request with 400.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func write(_ answer: AuthzHTTPAnswer, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(answer.headers.count + 3)
        headers.add(name: "Server", value: "scopegate")
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        headers.add(name: "Content-Length", value: String(answer.body.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(
            version: request.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD, !answer.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
        }
        state = .idle
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
