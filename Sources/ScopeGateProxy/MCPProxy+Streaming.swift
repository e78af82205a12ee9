import Hummingbird
import Logging
import NIOCore
import ScopeGate
import ScopeGateRequestAuthorization

extension MCPProxy {
    /// Relays an upstream `text/event-stream` answer to the client as it arrives, list results filtered when
    /// `filter` is given. Returns false when the upstream broke off (killed, connection reset): the stream is
    /// then ended with one JSON-RPC error event (-32004) per request of the body, so that a client waiting for
    /// its answer gets an error it can read instead of a stream that just stops. An event the filter still
    /// holds is dropped (it may be an unfiltered list result); one already passed on in part is closed first.
    /// An error writing to the client (it went away) is thrown.
    static func relayEvents(
        _ body: UpstreamBody, filter: ListFilter?, requestIDs: [JSONValue], to writer: inout any ResponseBodyWriter
    ) async throws -> Bool {
        var sse = filter.map { SSEListFilter(filter: $0) }
        var iterator = body.makeAsyncIterator()
        while true {
            let next: ByteBuffer?
            do { next = try await iterator.next() } catch {
                try await writer.write(ByteBuffer(bytes: brokenStream(requestIDs)))
                return false
            }
            guard let chunk = next else { break }
            if let out = sse?.feed(chunk.readableBytesView) {
                if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
            } else {
                try await writer.write(chunk)
            }
        }
        if let rest = sse?.finish(), !rest.isEmpty { try await writer.write(ByteBuffer(bytes: rest)) }
        return true
    }

    /// The end of a stream the upstream broke off: a blank line (ends an event passed on in part; harmless
    /// between events), then an error response for each request id (one with id null when there is none).
    static func brokenStream(_ ids: [JSONValue]) -> [UInt8] {
        let error = JSONRPCError(
            code: ScopeGateErrorCode.upstreamUnavailable, message: "the upstream broke off the stream before its answer"
        )
        var text = "\n\n"
        for id in ids.isEmpty ? [JSONValue.null] : ids {
            text += "event: message\ndata: " + String(decoding: error.response(id: id), as: UTF8.self) + "\n\n"
        }
        return Array(text.utf8)
    }
}

extension MCPProxy {
    /// Whether the answer to `request` may be a stream, so that it takes a stream slot before it is forwarded: a
    /// `GET` (the 2025-xx stream of server messages), or a `POST` holding a request (a body of notifications
    /// and responses is answered 202) that accepts `text/event-stream`, as `subscriptions/listen` and any call
    /// the server chooses to stream do.
    static func mayStream(
        method: HTTPRequest.Method, fields: some Sequence<(String, String)>, requestIDs: [JSONValue]
    ) -> Bool {
        if method == .get { return true }
        guard method == .post, !requestIDs.isEmpty else { return false }
        return fields.contains { ASCIICase.equals($0.0, "accept") && ASCIICase.contains($0.1, "text/event-stream") }
    }

    /// The answer to a request refused a stream slot: 503 with `Retry-After` when the proxy holds its most
    /// streams (every client is refused until some end), 429 with `Retry-After` when the principal holds its
    /// share (only its own requests are); JSON-RPC error -32006 with `data.reason`. Nothing was forwarded, or
    /// nothing of the upstream's answer is passed on.
    static func refused(_ refusal: StreamSlots.Refusal, logger: Logger) -> ProxyAnswer {
        logger.notice("refused a stream", metadata: ["reason": "\(refusal.reason)"])
        let failure = JSONRPCError(
            code: ScopeGateErrorCode.streamLimit, message: refusal.message,
            data: .object(["reason": .string(refusal.reason)]))
        return .json(refusal.httpStatus, failure.response(id: nil), extra: ["Retry-After": "5"])
    }
}

extension ScopeGateErrorCode {
    /// A request that may answer with a stream was refused a stream slot: the proxy's cap (HTTP 503) or the
    /// principal's (HTTP 429); `data.reason` is `stream.limit` or `stream.principal_limit`.
    public static let streamLimit = -32006
}
