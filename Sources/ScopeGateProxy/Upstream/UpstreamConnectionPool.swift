import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive connections to one plain-HTTP upstream, each carrying one exchange at a time
/// (``UpstreamExchangeHandler``).
///
/// An exchange takes the most recently freed connection, or opens one; a connection whose answer ended cleanly is
/// kept for the next. Connections are kept per event loop: an exchange started on an event loop (as every task is
/// when the gateway runs Swift's tasks on SwiftNIO's event loops) uses a connection of that loop, so the request,
/// the upstream's answer and the reply to the client never change threads; one started elsewhere takes any.
/// At most `maxIdle` are kept per loop, and none that has been idle for `idleLimit` or more is used again: servers
/// close idle connections on their own schedule (uvicorn and Node.js after 5 s), and a request sent on a
/// connection the server is closing at that moment is lost. The default 4 s stays under the shortest common server
/// limit. A sweep every second closes the connections idle that long, so an idle proxy holds no upstream sockets.
final class UpstreamConnectionPool: Sendable {
    let host: String
    let port: Int
    let group: any EventLoopGroup
    let maxIdle: Int
    let idleLimit: TimeAmount
    /// The idle limit unless one is given: under the shortest common server keep-alive (see the type's discussion).
    static let defaultIdleLimit: TimeAmount = .seconds(4)
    /// Idle connections by their event loop, most recently freed last.
    private let idle = NIOLockedValueBox<[ObjectIdentifier: [(connection: Connection, since: NIODeadline)]]>([:])

    /// A connection and its handler, usable from any thread.
    struct Connection: Sendable {
        let channel: any Channel
        let handler: NIOLoopBound<UpstreamExchangeHandler>
    }

    init(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, maxIdle: Int = 64,
        idleLimit: TimeAmount = defaultIdleLimit
    ) {
        self.host = host
        self.port = port
        self.group = group
        self.maxIdle = maxIdle
        self.idleLimit = idleLimit
        // The sweep holds the pool weakly and stops once the pool is gone.
        group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] task in
            guard let self else { return task.cancel() }
            self.closeExpired()
        }
    }

    /// Sends `request` and gives the answer's head with its streaming body, from `loop` (any loop when nil): a
    /// connection of that loop is used or opened, so that an exchange started on a client connection's event loop
    /// stays on it. `reply` is called once, on the upstream connection's loop (`loop` when given), failed with
    /// ``UpstreamExchangeHandler/Failure/timedOut`` when no head came before `deadline` (connecting included), and
    /// with another error when the upstream could not be reached or ended the connection first.
    func exchange(
        _ request: UpstreamRequestBytes, deadline: NIODeadline, on loop: (any EventLoop)?,
        reply: @escaping @Sendable (Result<UpstreamExchangeHandler.Answer, any Error>) -> Void
    ) {
        if let connection = takeIdle(on: loop) {
            start(request, deadline: deadline, on: connection, reply: reply) { [self] in
                // Closed while idle: nothing was sent, so another connection may carry it.
                exchange(request, deadline: deadline, on: loop, reply: reply)
            }
            return
        }
        connect(on: loop ?? group.any(), deadline: deadline).whenComplete { [self] result in
            switch result {
            case .success(let connection):
                // A new connection that cannot take the request closed at once: no other is tried.
                start(request, deadline: deadline, on: connection, reply: reply) {
                    reply(.failure(UpstreamExchangeHandler.Failure.closed))
                }
            case .failure(let error):
                reply(.failure(error))
            }
        }
    }

    /// ``exchange(_:deadline:on:reply:)`` as a future, which completes on the upstream connection's loop.
    func exchange(_ request: UpstreamRequestBytes, deadline: NIODeadline, on loop: (any EventLoop)?)
        -> EventLoopFuture<UpstreamExchangeHandler.Answer>
    {
        let promise = (loop ?? group.any()).makePromise(of: UpstreamExchangeHandler.Answer.self)
        exchange(request, deadline: deadline, on: loop) { promise.completeWith($0) }
        return promise.futureResult
    }

    /// Begins the exchange on `connection`'s loop; `notSent` when the connection could not take it.
    private func start(
        _ request: UpstreamRequestBytes, deadline: NIODeadline, on connection: Connection,
        reply: @escaping @Sendable (Result<UpstreamExchangeHandler.Answer, any Error>) -> Void,
        notSent: @escaping @Sendable () -> Void
    ) {
        let handler = connection.handler
        guard handler.eventLoop.inEventLoop else {
            return handler.eventLoop.execute {
                self.start(request, deadline: deadline, on: connection, reply: reply, notSent: notSent)
            }
        }
        if !handler.value.begin(request, deadline: deadline, reply: reply) { notSent() }
    }

    /// The most recently freed usable connection of `loop` (of any loop when nil); closes the stale ones it meets.
    private func takeIdle(on loop: (any EventLoop)?) -> Connection? {
        let now = NIODeadline.now()
        let key = loop.map { ObjectIdentifier($0) }
        while let entry = idle.withLockedValue({ lists -> (connection: Connection, since: NIODeadline)? in
            guard let key = key ?? lists.first(where: { !$0.value.isEmpty })?.key else { return nil }
            return lists[key]?.popLast()
        }) {
            if entry.connection.channel.isActive, now - entry.since < idleLimit { return entry.connection }
            entry.connection.channel.close(promise: nil)
        }
        return nil
    }

    /// How many idle connections are kept.
    var idleCount: Int { idle.withLockedValue { $0.values.reduce(0) { $0 + $1.count } } }

    /// Closes the idle connections that have been idle for `idleLimit` or more at `now`.
    func closeExpired(now: NIODeadline = .now()) {
        let expired = idle.withLockedValue { lists -> [Connection] in
            var expired: [Connection] = []
            for key in lists.keys {
                lists[key]?.removeAll { entry in
                    guard now - entry.since >= idleLimit else { return false }
                    expired.append(entry.connection)
                    return true
                }
            }
            return expired
        }
        for connection in expired { connection.channel.close(promise: nil) }
    }

    private func release(_ connection: Connection) {
        let key = ObjectIdentifier(connection.channel.eventLoop)
        let kept = idle.withLockedValue { lists -> Bool in
            guard lists[key, default: []].count < maxIdle else { return false }
            lists[key, default: []].append((connection, .now()))
            return true
        }
        if !kept { connection.channel.close(promise: nil) }
    }

    private func connect(on loop: any EventLoop, deadline: NIODeadline) -> EventLoopFuture<Connection> {
        let remaining = deadline - .now()
        guard remaining > .zero else { return loop.makeFailedFuture(UpstreamExchangeHandler.Failure.timedOut) }
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(remaining)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)
                    try pipeline.addHandler(ByteToMessageHandler(UpstreamResponseDecoder(decoder)))
                    let handler = UpstreamExchangeHandler(decoder: decoder)
                    try pipeline.addHandler(handler)
                    let connection = Connection(
                        channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    handler.onReusable = { [weak self] in self?.release(connection) }
                }
            }
        // The bootstrap's one loop is the channel's, so these callbacks run on it.
        return bootstrap.connect(host: host, port: port)
            .flatMapErrorThrowing { error in
                if case ChannelError.connectTimeout(_) = error { throw UpstreamExchangeHandler.Failure.timedOut }
                throw error
            }
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
                return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
    }
}
