import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ScopeGate
import ScopeGateRequestAuthorization

/// A stdio MCP server bridged to Streamable HTTP, as an ``MCPUpstream``: one shared child process
/// (``StdioBridge``) serves every client, with JSON-RPC ids remapped.
///
/// - `POST`: the body's requests go to the child; `initialize` is answered from the child's own initialize
///   result (the bridge initialized it) with a new `Mcp-Session-Id`, `notifications/initialized` is absorbed,
///   other notifications pass on, and clients' JSON-RPC responses are dropped (the bridge answers the child's
///   requests itself). The answer is JSON (one response, or an array for a batch); when the request accepts
///   `text/event-stream` and a progress notification arrives before the results, it is an SSE stream instead,
///   each notification an event before the results. Without requests to answer: 202.
/// - `DELETE`: 200 (the proxy ends the session's binding); `GET`: 405 (no stream of server-initiated messages:
///   a shared child's notifications belong to no one client).
/// - A child that fails ends the requests it had not answered with a JSON-RPC error -32004 and HTTP 502 (504
///   when it did not answer within `timeout`); the next request starts a new child after a backoff.
///
/// ```swift
/// let upstream = StdioUpstream(argv: ["python3", "-m", "mcp_server_time"], timeout: .seconds(300))
/// ```
public final class StdioUpstream: MCPUpstream {
    let bridge: StdioBridge
    let timeout: Duration

    /// - Parameters:
    ///   - environment: the child's environment (nil: this process's).
    ///   - initialBackoff: the first delay before restarting a failed child (doubled per failure, up to 30 s).
    public init(
        argv: [String], environment: [String: String]? = nil, timeout: Duration,
        initialBackoff: Duration = .milliseconds(100), logger: Logger = Logger(label: "scopegate.proxy")
    ) {
        bridge = StdioBridge(
            argv: argv, environment: environment, initialBackoff: initialBackoff,
            handshakeTimeout: min(timeout, .seconds(30)),
            logger: logger)
        self.timeout = timeout
    }

    /// The number of child processes started so far.
    public var starts: Int { get async { await bridge.starts } }

    public func prepare() async throws(UpstreamFailure) { _ = try await bridge.ready() }

    public func shutdown() async { await bridge.shutdown() }

    public func send(_ request: UpstreamRequest) async throws(UpstreamFailure) -> UpstreamResponse {
        switch request.method {
        case "POST": break
        case "DELETE": return UpstreamResponse(status: 200, headers: [:], body: .bytes(ByteBuffer()))
        default: return UpstreamResponse(status: 405, headers: ["Allow": "POST, DELETE"], body: .bytes(ByteBuffer()))
        }
        let parsed = request.body.readableBytesView.withContiguousStorageIfAvailable {
            try? JSONParser(maxDepth: 512).parse($0)
        }
        guard let value = parsed ?? nil else {
            let rejection = RequestRejection(.parseError, "body is not JSON")
            return Self.json(400, String(decoding: rejection.responseBody(), as: UTF8.self), headers: [:])
        }
        let isBatch: Bool
        let items: [JSONValue]
        if case .array(let array) = value {
            (isBatch, items) = (true, array)
        } else {
            (isBatch, items) = (false, [value])
        }
        let serverInit = try await bridge.ready()

        let (events, sink) = AsyncStream.makeStream(of: BridgeEvent.self)
        var local: [String] = []
        var headers: HTTPHeaders = [:]
        var childIDs: [Int] = []
        for case .object(let message) in items {
            guard case .string(let method)? = message["method"] else { continue }
            if let id = message["id"] {
                if method == "initialize" {
                    local.append(Self.initializeAnswer(id: id, request: message, serverInit: serverInit).jsonText)
                    if !headers.contains(name: "Mcp-Session-Id") {
                        headers.add(name: "Mcp-Session-Id", value: UUID().uuidString.lowercased())
                    }
                } else {
                    childIDs.append(await bridge.send(message, owner: request.principal, sink: sink))
                }
            } else if method != "notifications/initialized" {
                await bridge.notify(message, owner: request.principal)
            }
        }
        guard !childIDs.isEmpty else {
            sink.finish()
            if local.isEmpty { return UpstreamResponse(status: 202, headers: headers, body: .bytes(ByteBuffer())) }
            return Self.json(200, isBatch ? "[" + local.joined(separator: ",") + "]" : local[0], headers: headers)
        }
        let (shared, limit, sent, localAnswers, responseHeaders) = (bridge, timeout, childIDs, local, headers)
        let timer = Task {
            try await Task.sleep(for: limit)
            await shared.expire(sent)
        }
        let accept = request.headers[.accept] ?? ""
        let wantsStream = accept.contains("text/event-stream")
        let expected = childIDs.count
        return await withCheckedContinuation { (decided: CheckedContinuation<UpstreamResponse, Never>) in
            Task {
                var answers = localAnswers
                var failure: UpstreamFailure?
                var stream: AsyncThrowingStream<ByteBuffer, any Error>.Continuation?
                var received = 0
                for await event in events {
                    let text: String
                    switch event {
                    case .message(let message):
                        guard wantsStream else { continue }
                        text = message.jsonText
                    case .response(let response):
                        received += 1
                        text = response.jsonText
                    case .failed(let error, let id):
                        received += 1
                        failure = failure ?? error
                        text = String(
                            decoding: JSONRPCError(code: ScopeGateErrorCode.upstreamUnavailable, message: error.message)
                                .response(id: id), as: UTF8.self)
                    }
                    if let stream {
                        stream.yield(Self.event(text))
                    } else if case .message = event {
                        // A notification before the results: the answer becomes an SSE stream.
                        let (body, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
                        var sseHeaders = responseHeaders
                        sseHeaders.add(name: "Content-Type", value: "text/event-stream")
                        sseHeaders.add(name: "Cache-Control", value: "no-cache")
                        decided.resume(
                            returning: UpstreamResponse(status: 200, headers: sseHeaders, body: .stream(body)))
                        for answer in answers { continuation.yield(Self.event(answer)) }
                        continuation.yield(Self.event(text))
                        stream = continuation
                    } else {
                        answers.append(text)
                    }
                    if received == expected { break }
                }
                timer.cancel()
                sink.finish()
                if let stream {
                    stream.finish()
                    return
                }
                let status = failure.map { $0.code == .timeout ? 504 : 502 } ?? 200
                let body = isBatch ? "[" + answers.joined(separator: ",") + "]" : answers.first ?? ""
                decided.resume(returning: Self.json(status, body, headers: responseHeaders))
            }
        }
    }

    /// The answer to a client's `initialize`: the child's result, with the client's revision when it asked for
    /// an older one the proxy serves (message shapes only grow between revisions), else the child's.
    static func initializeAnswer(id: JSONValue, request: [String: JSONValue], serverInit: [String: JSONValue])
        -> JSONValue
    {
        var result = serverInit
        if case .object(let params)? = request["params"], case .string(let asked)? = params["protocolVersion"],
            case .string(let offered)? = serverInit["protocolVersion"], asked < offered,
            let revision = ProtocolRevision(asked), ProtocolRevision.known.contains(revision)
        {
            result["protocolVersion"] = .string(asked)
        }
        return .object(["jsonrpc": .string("2.0"), "id": id, "result": .object(result)])
    }

    static func event(_ data: String) -> ByteBuffer { ByteBuffer(string: "event: message\ndata: " + data + "\n\n") }

    static func json(_ status: Int, _ body: String, headers: HTTPHeaders) -> UpstreamResponse {
        var headers = headers
        headers.add(name: "Content-Type", value: "application/json")
        return UpstreamResponse(status: status, headers: headers, body: .bytes(ByteBuffer(string: body)))
    }
}
