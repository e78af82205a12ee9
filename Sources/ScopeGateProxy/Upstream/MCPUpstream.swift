import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import ScopeGate

/// Where an ``MCPProxy`` sends what it has authorized: a Streamable HTTP server (``HTTP1Upstream`` for `http://`,
/// ``HTTPUpstream`` for `https://`) or a stdio server bridged to HTTP (``StdioUpstream``). The proxy authorizes,
/// binds sessions, adds the upstream credential and filters list results the same way whichever it is.
///
/// ```swift
/// let upstream: any MCPUpstream = HTTPUpstream(url: "http://127.0.0.1:9000/mcp", timeout: .seconds(300))
/// let response = try await upstream.send(request)
/// for try await chunk in response.body { … }
/// ```
public protocol MCPUpstream: Sendable {
    /// Sends one authorized request and returns the answer, whose body may still be streaming. Throws when
    /// there is no answer at all (the proxy answers 502).
    func send(_ request: UpstreamRequest) async throws(UpstreamFailure) -> UpstreamResponse
    /// Gets ready before the first request (starts a child process); nothing for an HTTP upstream.
    func prepare() async throws(UpstreamFailure)
    /// Releases what the upstream holds (a child process).
    func shutdown() async
}

extension MCPUpstream {
    public func prepare() async throws(UpstreamFailure) {}
}

/// An authorized request, as the upstream gets it.
///
/// ```swift
/// let request = UpstreamRequest(method: "POST", headers: [.contentType: "application/json"],
///                               body: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
///                               authorization: "Bearer \(exchanged)", principal: "https://idp|alice")
/// let response = try await upstream.send(request)
/// ```
public struct UpstreamRequest: Sendable {
    /// The HTTP method (`POST`, `GET`, `DELETE`).
    public var method: String
    /// The client's headers. ``ProxyHeaders`` drops the client's `Authorization` and hop-by-hop headers before
    /// anything is sent.
    public var headers: HTTPFields
    /// The request body (already authorized).
    public var body: ByteBuffer
    /// The `Authorization` value for the upstream (a static credential or an exchanged token), or nil for none.
    public var authorization: String?
    /// Who is asking (issuer and subject of the token), for what a shared upstream keeps per client.
    public var principal: String

    public init(
        method: String, headers: HTTPFields, body: ByteBuffer, authorization: String? = nil,
        principal: String = ""
    ) {
        self.method = method
        self.headers = headers
        self.body = body
        self.authorization = authorization
        self.principal = principal
    }
}

/// An upstream's answer: status, headers and a body that may still be streaming.
///
/// ```swift
/// let response = try await upstream.send(request)
/// if response.status == 200, response.headers["content-type"].first?.hasPrefix("text/event-stream") == true {
///     for try await chunk in response.body { relay(chunk) }
/// }
/// ```
public struct UpstreamResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: UpstreamBody

    public init(status: Int, headers: HTTPHeaders, body: UpstreamBody) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The body of an ``UpstreamResponse``: an upstream connection's body (``HTTP1Upstream``), AsyncHTTPClient's body
/// (``HTTPUpstream``), a stream the stdio bridge writes, or bytes.
///
/// ```swift
/// var text = ""
/// for try await chunk in response.body { text += String(buffer: chunk) }
/// ```
public enum UpstreamBody: AsyncSequence, Sendable {
    case channel(UpstreamChannelBody)
    case http(HTTPClientResponse.Body)
    case stream(AsyncThrowingStream<ByteBuffer, any Error>)
    case bytes(ByteBuffer)

    public typealias Element = ByteBuffer

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum Base {
            case channel(UpstreamChannelBody.AsyncIterator)
            case http(HTTPClientResponse.Body.AsyncIterator)
            case stream(AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator)
            case bytes(ByteBuffer?)
        }
        var base: Base

        public mutating func next() async throws -> ByteBuffer? {
            switch base {
            case .channel(var iterator):
                defer { base = .channel(iterator) }
                return try await iterator.next()
            case .http(var iterator):
                defer { base = .http(iterator) }
                return try await iterator.next()
            case .stream(var iterator):
                defer { base = .stream(iterator) }
                return try await iterator.next()
            case .bytes(let bytes):
                base = .bytes(nil)
                return bytes
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch self {
        case .channel(let body): AsyncIterator(base: .channel(body.makeAsyncIterator()))
        case .http(let body): AsyncIterator(base: .http(body.makeAsyncIterator()))
        case .stream(let stream): AsyncIterator(base: .stream(stream.makeAsyncIterator()))
        case .bytes(let bytes): AsyncIterator(base: .bytes(bytes.readableBytes > 0 ? bytes : nil))
        }
    }
}

/// Why an upstream gave no answer: the proxy answers 502 (504 for ``Code/timeout``) with JSON-RPC error -32004.
///
/// ```swift
/// throw UpstreamFailure(.unreachable, "the upstream MCP server is unavailable")
/// ```
public struct UpstreamFailure: CodedError, Hashable {
    /// A stable code.
    public typealias Code = ErrorCode<UpstreamFailure>

    public let code: Code
    /// Lowercase, safe to show to the client (no token, no secret).
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension UpstreamFailure {
    /// Why an HTTP upstream gave no answer, logged: ``Code-swift.struct/timeout`` when `timedOut` (no answer head
    /// within `timeout`), else ``Code-swift.struct/unreachable`` (`error` says why).
    static func noAnswer(timedOut: Bool, timeout: Duration, error: any Error, logger: Logger) -> UpstreamFailure {
        if timedOut {
            logger.warning("upstream did not answer in time", metadata: ["timeout": "\(timeout)"])
            return UpstreamFailure(.timeout, "the upstream MCP server did not answer in time")
        }
        logger.warning("upstream unreachable", metadata: ["error": "\(error)"])
        return UpstreamFailure(.unreachable, "the upstream MCP server is unavailable")
    }
}

extension ErrorCode where Owner == UpstreamFailure {
    /// The HTTP upstream could not be reached (refused, reset, DNS, TLS).
    public static let unreachable = Self("upstream.unreachable")
    /// The stdio child could not be started, exited, or wrote something that is not JSON-RPC.
    public static let childFailed = Self("upstream.child_failed")
    /// The upstream (an HTTP server's answer head, a stdio child's answer) did not come within the upstream
    /// timeout.
    public static let timeout = Self("upstream.timeout")
}
