import Foundation
import Logging
import ScopeGate

/// What the child sent for one HTTP request: a notification for its client (progress), a response with the
/// client's id, or the failure that ended one of its requests.
enum BridgeEvent: Sendable {
    case message(JSONValue)
    case response(JSONValue)
    case failed(UpstreamFailure, id: JSONValue)
}

/// One shared stdio MCP server for every client, with JSON-RPC id remapping.
///
/// The bridge starts the child and initializes it itself (`initialize`, then `notifications/initialized`);
/// clients' `initialize` requests are answered from that result (``StdioUpstream``). Every client request gets
/// a fresh numeric id on the child's side, and its `_meta.progressToken` a fresh token, so two clients using
/// the same ids or tokens never see each other's answers; the child's response and `notifications/progress`
/// go back, with the client's id and token, to the HTTP request that asked. `notifications/cancelled` is
/// remapped for the client that sent the request.
///
/// Requests from the child to a client (sampling, elicitation, roots) cannot be routed to one client of a
/// shared process: the bridge answers `ping` itself and every other request with "method not found". Other
/// notifications from the child (logging, list changes) have no client to go to and are dropped.
///
/// A child that exits, closes its stdout, writes a line that is not JSON or one over the size limit is ended;
/// every request it had not answered fails (``BridgeEvent/failed(_:id:)``), and the next request starts a new
/// child after an exponential backoff (`initialBackoff`, doubled on each consecutive failure up to
/// `maxBackoff`, reset by the first answer).
actor StdioBridge {
    struct Pending {
        let originalID: JSONValue
        let owner: String
        let sink: AsyncStream<BridgeEvent>.Continuation
        let progressToken: String?
    }

    struct ProgressRoute {
        let original: JSONValue
        let sink: AsyncStream<BridgeEvent>.Continuation
    }

    let argv: [String]
    let environment: [String: String]?
    let maxLineBytes: Int
    let initialBackoff: Duration
    let maxBackoff: Duration
    let handshakeTimeout: Duration
    let logger: Logger

    var child: StdioChild?
    var generation = 0
    /// The `result` of the child's `initialize`, while the child runs.
    var serverInit: [String: JSONValue]?
    var pending: [Int: Pending] = [:]
    var progress: [String: ProgressRoute] = [:]
    var nextID = 1
    var failures = 0
    var notBefore: ContinuousClock.Instant?
    var starting: Task<Result<[String: JSONValue], UpstreamFailure>, Never>?
    /// The longest a request waits for a restart.
    static let maxWait: Duration = .seconds(1)
    /// Children started (for tests and logs).
    private(set) var starts = 0

    init(
        argv: [String], environment: [String: String]?, maxLineBytes: Int = 16 << 20,
        initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(30),
        handshakeTimeout: Duration = .seconds(30), logger: Logger
    ) {
        self.argv = argv
        self.environment = environment
        self.maxLineBytes = maxLineBytes
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
    }

    /// The child's `initialize` result, starting and initializing a child first when none runs. A request
    /// waits for a restart due within ``maxWait``; one further off fails at once (a command that keeps failing
    /// does not hold every request for the whole backoff).
    func ready() async throws(UpstreamFailure) -> [String: JSONValue] {
        if child != nil, let serverInit { return serverInit }
        if let starting { return try await starting.value.get() }
        if let notBefore, notBefore - .now > Self.maxWait {
            throw UpstreamFailure(.childFailed, "the upstream command failed and is restarting")
        }
        let task = Task { await self.start() }
        starting = task
        let result = await task.value
        starting = nil
        return try result.get()
    }

    private func start() async -> Result<[String: JSONValue], UpstreamFailure> {
        if let notBefore, notBefore > .now { try? await Task.sleep(until: notBefore, clock: .continuous) }
        generation += 1
        let current = generation
        let child: StdioChild
        do throws(UpstreamFailure) {
            child = try StdioChild(argv: argv, environment: environment, maxLineBytes: maxLineBytes)
        } catch {
            noteFailure()
            return .failure(error)
        }
        starts += 1
        self.child = child
        logger.info("started the upstream command", metadata: ["pid": "\(child.pid)"])
        Task { for await output in child.lines { await self.receive(output, generation: current) } }

        let (events, sink) = AsyncStream.makeStream(of: BridgeEvent.self)
        let params: JSONValue = .object([
            "protocolVersion": .string("2025-11-25"), "capabilities": .object([:]),
            "clientInfo": .object(["name": .string("scopegate-proxy"), "version": .string("1")]),
        ])
        let id = send(
            ["jsonrpc": .string("2.0"), "id": .number(0), "method": .string("initialize"), "params": params],
            owner: "", sink: sink)
        let timer = Task {
            try await Task.sleep(for: handshakeTimeout)
            await self.expire([id])
        }
        defer { timer.cancel() }
        for await event in events {
            switch event {
            case .message: continue
            case .failed(let failure, _): return .failure(failure)
            case .response(let response):
                guard case .object(let object) = response, case .object(let result)? = object["result"],
                    case .string? = result["protocolVersion"]
                else {
                    childFailed("answered `initialize` without a result")
                    return .failure(UpstreamFailure(.childFailed, "the upstream command did not initialize"))
                }
                child.write(
                    JSONValue.object(["jsonrpc": .string("2.0"), "method": .string("notifications/initialized")])
                        .jsonText)
                serverInit = result
                return .success(result)
            }
        }
        return .failure(UpstreamFailure(.childFailed, "the upstream command did not initialize"))
    }

    /// The 2026-07-28 per-request envelope in `params._meta`, which the bridge removes.
    static let envelopeKeys = [
        "io.modelcontextprotocol/protocolVersion", "io.modelcontextprotocol/clientCapabilities",
        "io.modelcontextprotocol/clientInfo",
    ]

    /// Sends a client request to the child with a fresh id (and progress token); returns the child-side id.
    /// Without a running child the request fails at once.
    func send(_ message: [String: JSONValue], owner: String, sink: AsyncStream<BridgeEvent>.Continuation) -> Int {
        let id = nextID
        nextID += 1
        let originalID = message["id"] ?? .null
        guard let child else {
            sink.yield(.failed(UpstreamFailure(.childFailed, "the upstream command is not running"), id: originalID))
            return id
        }
        var message = message
        message["id"] = .number(Decimal(id))
        var token: String?
        if case .object(var params)? = message["params"], case .object(var meta)? = params["_meta"] {
            // The child was opened with the 2025-11-25 handshake, where a 2026-07-28 request's per-request
            // envelope does not belong (a child that speaks both refuses it on a handshake connection).
            for key in Self.envelopeKeys { meta[key] = nil }
            if let original = meta["progressToken"] {
                let mapped = "scopegate-\(id)"
                progress[mapped] = ProgressRoute(original: original, sink: sink)
                meta["progressToken"] = .string(mapped)
                token = mapped
            }
            params["_meta"] = meta.isEmpty ? nil : .object(meta)
            message["params"] = .object(params)
        }
        pending[id] = Pending(originalID: originalID, owner: owner, sink: sink, progressToken: token)
        child.write(JSONValue.object(message).jsonText)
        return id
    }

    /// Sends a client notification; `notifications/cancelled` names the child-side id of the owner's request.
    func notify(_ message: [String: JSONValue], owner: String) {
        guard let child else { return }
        var message = message
        if case .string("notifications/cancelled")? = message["method"] {
            guard case .object(var params)? = message["params"], let requestID = params["requestId"],
                let id = pending.first(where: { $0.value.owner == owner && $0.value.originalID == requestID })?.key
            else { return }
            params["requestId"] = .number(Decimal(id))
            message["params"] = .object(params)
        }
        child.write(JSONValue.object(message).jsonText)
    }

    /// Fails the requests among `ids` still unanswered (the upstream timeout) and tells the child to stop them.
    func expire(_ ids: [Int]) {
        for id in ids {
            guard let entry = pending.removeValue(forKey: id) else { continue }
            if let token = entry.progressToken { progress[token] = nil }
            entry.sink.yield(
                .failed(UpstreamFailure(.timeout, "the upstream command did not answer in time"), id: entry.originalID))
            child?.write(
                JSONValue.object([
                    "jsonrpc": .string("2.0"), "method": .string("notifications/cancelled"),
                    "params": .object(["requestId": .number(Decimal(id)), "reason": .string("timeout")]),
                ]).jsonText)
        }
    }

    func receive(_ output: StdioChild.Output, generation: Int) {
        guard generation == self.generation else { return }
        switch output {
        case .closed: childFailed("exited or closed its output")
        case .overflow: childFailed("wrote a message larger than \(maxLineBytes) bytes")
        case .line(let text):
            guard let value = try? JSONParser(maxDepth: 512).parse(text) else {
                childFailed("wrote a line that is not JSON")
                return
            }
            dispatch(value)
        }
    }

    func dispatch(_ value: JSONValue) {
        guard case .object(var object) = value else {
            if case .array(let items) = value { items.forEach(dispatch) }
            return
        }
        if case .string(let method)? = object["method"] {
            if let id = object["id"] {
                // A request to a client: no single client to route it to (see the type's documentation).
                let answer: JSONValue =
                    method == "ping"
                    ? .object(["jsonrpc": .string("2.0"), "id": id, "result": .object([:])])
                    : .object([
                        "jsonrpc": .string("2.0"), "id": id,
                        "error": .object(["code": .number(-32601), "message": .string("method not found")]),
                    ])
                child?.write(answer.jsonText)
            } else if method == "notifications/progress", case .object(var params)? = object["params"],
                case .string(let token)? = params["progressToken"], let route = progress[token]
            {
                params["progressToken"] = route.original
                object["params"] = .object(params)
                route.sink.yield(.message(.object(object)))
            }
            return
        }
        guard case .number(let number)? = object["id"],
            let id = Int(exactly: NSDecimalNumber(decimal: number).doubleValue),
            let entry = pending.removeValue(forKey: id)
        else { return }
        if let token = entry.progressToken { progress[token] = nil }
        object["id"] = entry.originalID
        failures = 0
        notBefore = nil
        entry.sink.yield(.response(.object(object)))
    }

    /// Ends the child and fails every request it had not answered; `wait` for the child to be gone.
    func childFailed(_ what: String, wait: Bool = false) {
        let failure = UpstreamFailure(.childFailed, "the upstream command `\(argv[0])` \(what)")
        let stderr = child?.stderrText.split(separator: "\n").suffix(5).joined(separator: " | ") ?? ""
        logger.warning("\(failure.message)", metadata: ["stderr": "\(stderr)"])
        child?.terminate(wait: wait)
        child = nil
        serverInit = nil
        generation += 1
        noteFailure()
        let failed = pending
        pending = [:]
        progress = [:]
        for entry in failed.values { entry.sink.yield(.failed(failure, id: entry.originalID)) }
    }

    private func noteFailure() {
        failures += 1
        var delay = initialBackoff
        for _ in 1..<min(failures, 20) where delay < maxBackoff { delay *= 2 }
        notBefore = .now + min(delay, maxBackoff)
    }

    /// Ends the child (at shutdown).
    func shutdown() {
        if child != nil { childFailed("was stopped", wait: true) }
    }
}
