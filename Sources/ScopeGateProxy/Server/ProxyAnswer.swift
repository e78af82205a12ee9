import Hummingbird
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import ScopeGateRequestAuthorization

/// What an ``MCPProxy`` answers one request with, before it is written: a status, headers, and a body that is
/// either whole (written at once, as the proxy's own answers and most upstream answers are), streamed, or an
/// upstream list answer still to be read and filtered. Both ways of serving the proxy write it: Hummingbird's
/// responder as a `Response` (``MCPProxy/response(for:)``), and the connection handler that answers on the event
/// loop (``ProxyConnectionHandler``) whole answers directly. The fields are SwiftNIO's, as the upstream's answer
/// arrives and as the connection handler writes them: only a `Response` converts them to `HTTPFields`.
struct ProxyAnswer: Sendable {
    enum Body: Sendable {
        case whole(ByteBuffer)
        case streamed(ResponseBody)
        /// A list answer whose body arrives in pieces: read whole (up to ``MCPProxy/maxFilteredBytes``), then
        /// filtered; 502 when it cannot be read.
        case filtered(UpstreamBody, ListFilter)
    }

    var status: Int
    var fields: HTTPHeaders
    var body: Body

    /// A JSON answer of the proxy's own (an error, a metadata document) or a whole upstream answer.
    static func json(_ status: Int, _ body: [UInt8], extra: HTTPHeaders = [:]) -> ProxyAnswer {
        var fields: HTTPHeaders = ["Content-Type": "application/json"]
        fields.add(contentsOf: extra)
        return ProxyAnswer(status: status, fields: fields, body: .whole(ByteBuffer(bytes: body)))
    }

    /// The proxy's answer when the upstream gave nothing usable: JSON-RPC error -32004 with `message` (and
    /// `data.reason` when given), id null, under `status` (502, or 504 for a timeout).
    static func upstreamUnavailable(_ message: String, status: Int = 502, reason: String? = nil) -> ProxyAnswer {
        let failure = JSONRPCError(
            code: ScopeGateErrorCode.upstreamUnavailable, message: message,
            data: reason.map { .object(["reason": .string($0)]) })
        return .json(status, failure.response(id: nil))
    }

    static func text(_ status: Int, _ text: String) -> ProxyAnswer {
        ProxyAnswer(
            status: status, fields: ["Content-Type": "text/plain; charset=utf-8"],
            body: .whole(ByteBuffer(string: text)))
    }
}

extension MCPProxy {
    /// The longest list answer read to be filtered.
    static let maxFilteredBytes = 16 << 20

    /// `answer` as a Hummingbird response; a list answer still arriving is read and filtered first.
    func response(for answer: ProxyAnswer) async -> Response {
        let status = HTTPResponse.Status(code: answer.status)
        let fields = HTTPFields(answer.fields, splitCookie: false)
        switch answer.body {
        case .whole(let buffer):
            return Response(
                status: status, headers: fields,
                body: buffer.readableBytes == 0 ? ResponseBody() : ResponseBody(byteBuffer: buffer))
        case .streamed(let body):
            return Response(status: status, headers: fields, body: body)
        case .filtered(let upstreamBody, let filter):
            var collected: [UInt8] = []
            do {
                for try await chunk in upstreamBody {
                    collected += chunk.readableBytesView
                    guard collected.count <= Self.maxFilteredBytes else { throw ProxyFailure.responseTooLarge }
                }
            } catch {
                operations.metrics.upstreamError(kind: "unreadable")
                logger.warning("upstream response unreadable", metadata: ["error": "\(error)"])
                return await response(for: .upstreamUnavailable("the upstream response could not be read"))
            }
            return Response(
                status: status, headers: fields,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: filter.filterBody(collected))))
        }
    }

    enum ProxyFailure: Error { case responseTooLarge }
}
