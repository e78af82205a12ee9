import Foundation
import ScopeGate
import ScopeGateMCPClient

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// MCP's Streamable HTTP transport (protocols 2025-11-25 and 2026-07-28): each message is a POST of JSON to the
/// endpoint; a response arrives as `application/json` or as a `text/event-stream` whose `data:` events carry it.
/// The `Mcp-Session-Id` the server returns is sent back on every later request, with an `Mcp-Method` header naming
/// the method and `MCP-Protocol-Version`: the revision the message's `_meta` envelope names (2026-07-28), else the
/// one `initialize` agreed. `close` ends the session with DELETE.
///
/// ```swift
/// let transport = HTTPTransport(url: URL(string: "http://127.0.0.1:8000/mcp")!, token: nil)
/// let tools = try MCPSession(transport: transport).listTools()
/// ```
public final class HTTPTransport: MCPTransport, @unchecked Sendable {
    public let url: URL
    private let token: String?
    private let session: URLSession
    // Guarded by `lock`.
    private let lock = NSLock()
    private var sessionID: String?
    private var protocolVersion: String?

    /// Streamable HTTP servers may speak the stateless revision: ``MCPSession`` tries `server/discover` first.
    public var supportsDiscovery: Bool { true }

    public init(url: URL, token: String? = nil) {
        self.url = url
        self.token = token
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration)
    }

    public func send(request: JSONValue, id: Int, timeout: Duration) throws(MCPClientError) -> JSONValue {
        let (response, body) = try post(request, timeout: timeout)
        guard (200..<300).contains(response.statusCode) else { throw statusError(response, body) }
        let type = (response.value(forHTTPHeaderField: "Content-Type") ?? "").lowercased()
        let messages: [JSONValue]
        if type.hasPrefix("text/event-stream") {
            messages = try Self.events(in: body)
        } else {
            messages = [try JSONRPC.parse(String(decoding: body, as: UTF8.self))]
        }
        for message in messages {
            guard case .object(let object) = message, object["method"] == nil, object["id"] == .number(Decimal(id))
            else { continue }
            if case .object(let result)? = object["result"], case .string(let version)? = result["protocolVersion"] {
                lock.withLock { protocolVersion = version }
            }
            return message
        }
        throw MCPClientError(.badMessage, "the server's answer to request \(id) holds no response with that id")
    }

    public func send(notification: JSONValue) throws(MCPClientError) {
        let (response, body) = try post(notification, timeout: .seconds(30))
        guard (200..<300).contains(response.statusCode) else { throw statusError(response, body) }
    }

    /// Ends the session (DELETE with its id), best effort.
    public func close() {
        guard let id = lock.withLock({ sessionID }) else { return }
        var request = URLRequest(url: url, timeoutInterval: 5)
        request.httpMethod = "DELETE"
        request.setValue(id, forHTTPHeaderField: "Mcp-Session-Id")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        _ = try? perform(request)
        lock.withLock { sessionID = nil }
    }

    private func post(_ message: JSONValue, timeout: Duration) throws(MCPClientError) -> (HTTPURLResponse, Data) {
        var request = URLRequest(url: url, timeoutInterval: Double(timeout.components.seconds) + 1)
        request.httpMethod = "POST"
        request.httpBody = Data(message.jsonText.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json, text/event-stream", forHTTPHeaderField: "Accept")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        var envelopeVersion: String?
        if case .object(let object) = message, case .string(let method)? = object["method"] {
            request.setValue(method, forHTTPHeaderField: "Mcp-Method")
            if case .object(let params)? = object["params"], case .object(let meta)? = params["_meta"],
                case .string(let version)? = meta["io.modelcontextprotocol/protocolVersion"]
            {
                envelopeVersion = version
            }
        }
        let (id, agreed) = lock.withLock { (sessionID, protocolVersion) }
        if let id { request.setValue(id, forHTTPHeaderField: "Mcp-Session-Id") }
        if let version = envelopeVersion ?? agreed {
            request.setValue(version, forHTTPHeaderField: "MCP-Protocol-Version")
        }
        let (response, body) = try perform(request)
        if let newID = response.value(forHTTPHeaderField: "Mcp-Session-Id") { lock.withLock { sessionID = newID } }
        return (response, body)
    }

    private func perform(_ request: URLRequest) throws(MCPClientError) -> (HTTPURLResponse, Data) {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.set(data, response, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, response, error) = box.get()
        if let error {
            let timedOut = (error as? URLError)?.code == .timedOut
            throw MCPClientError(
                timedOut ? .timeout : .http,
                "\(request.httpMethod ?? "") \(url.absoluteString): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw MCPClientError(.http, "\(url.absoluteString) did not answer with HTTP")
        }
        guard (data?.count ?? 0) <= StdioTransport.maxMessageBytes else {
            throw MCPClientError(.tooLarge, "the answer is larger than \(StdioTransport.maxMessageBytes) bytes")
        }
        return (http, data ?? Data())
    }

    private func statusError(_ response: HTTPURLResponse, _ body: Data) -> MCPClientError {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        var message = "\(url.absoluteString) answered HTTP \(response.statusCode)"
        if let challenge = response.value(forHTTPHeaderField: "WWW-Authenticate") {
            message += " (WWW-Authenticate: \(challenge))"
        }
        return MCPClientError(.http, message + (text.isEmpty ? "" : ": \(text)"))
    }

    /// The JSON messages of a server-sent event stream: each event's `data:` lines joined by newlines.
    static func events(in body: Data) throws(MCPClientError) -> [JSONValue] {
        var messages: [JSONValue] = []
        var data: [String] = []
        let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let lines: [Substring] = text.split(separator: "\n", omittingEmptySubsequences: false) + [""]
        for line in lines {
            if line.isEmpty {
                if !data.isEmpty { messages.append(try JSONRPC.parse(data.joined(separator: "\n"))) }
                data = []
            } else if line.hasPrefix("data:") {
                data.append(String(line.dropFirst(5).drop(while: { $0 == " " })))
            }
        }
        return messages
    }
}

/// The outcome of one URLSession task, handed from its callback to the waiting caller.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Data?, URLResponse?, (any Error)?) = (nil, nil, nil)
    func set(_ data: Data?, _ response: URLResponse?, _ error: (any Error)?) {
        lock.withLock { value = (data, response, error) }
    }
    func get() -> (Data?, URLResponse?, (any Error)?) { lock.withLock { value } }
}
