import Foundation
import Hummingbird
import Logging
import MCP
import NIOCore
import ScopeGateRequestAuthorization

/// Serves an ``MCPHTTPGateway`` over HTTP/1.1 with Hummingbird: every request (the MCP endpoint and the
/// Protected Resource Metadata paths) goes to the gateway; bodies over the gateway's limit get `413` without
/// being buffered further.
///
/// ```swift
/// let app = Application(
///     responder: GatewayResponder(gateway: gateway),
///     configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
/// try await app.runService()
/// ```
public struct GatewayResponder: HTTPResponder {
    public typealias Context = BasicRequestContext
    let gateway: MCPHTTPGateway

    /// A responder for `gateway`.
    public init(gateway: MCPHTTPGateway) { self.gateway = gateway }

    public func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        // An oversized head is refused (431) before the body is read or a token looked at.
        if let refusal = gateway.authorizer.requestAuthorizer().settings.limits.headRejection(
            method: request.method.rawValue, target: request.uri.description, authority: request.head.authority,
            fields: request.headers.lazy.map { ($0.name.rawName, $0.value) })
        {
            return Response(
                status: .init(code: refusal.code.httpStatus), headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: refusal.responseBody())))
        }
        var request = request
        let limit = gateway.authorizer.configuration.maxBodyBytes
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            return Self.response(.error(statusCode: 413, .invalidRequest("request body larger than \(limit) bytes")))
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        let body = buffer.readableBytes > 0 ? Data(buffer.readableBytesView) : nil
        let mcpRequest = MCP.HTTPRequest(
            method: request.method.rawValue, headers: headers, body: body, path: request.uri.path)
        switch await gateway.answer(mcpRequest) {
        case .response(let response): return Self.response(response)
        case .refused(let verdict): return Self.response(verdict)
        }
    }

    /// A refusal with the verdict's own body: every request's JSON-RPC error with its `id` and `data`.
    static func response(_ verdict: AuthorizationVerdict) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        if let challenge = verdict.wwwAuthenticate { fields[.wwwAuthenticate] = challenge }
        if verdict.status == 405 { fields[.allow] = "POST" }
        let body = verdict.body.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
        // An allowed verdict is never a refusal; answer 403 rather than trust an impossible state.
        return Response(status: .init(code: verdict.allowed ? 403 : verdict.status), headers: fields, body: body)
    }

    /// Converts the SDK's response into Hummingbird's (SSE streams are passed through chunk by chunk).
    static func response(_ response: MCP.HTTPResponse) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            guard let fieldName = HTTPFields.Element.Name(name) else { continue }
            fields.append(HTTPFields.Element(name: fieldName, value: value))
        }
        switch response {
        case .stream(let stream, _):
            return Response(
                status: .init(code: response.statusCode), headers: fields,
                body: ResponseBody { writer in
                    for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                    try await writer.finish(nil)
                })
        default:
            let body = response.bodyData.map { ResponseBody(byteBuffer: ByteBuffer(bytes: $0)) } ?? ResponseBody()
            return Response(status: .init(code: response.statusCode), headers: fields, body: body)
        }
    }
}

/// Builds the Hummingbird application that serves a gateway.
///
/// ```swift
/// try await ScopeGateHTTPServer.application(gateway: gateway, host: "0.0.0.0", port: 8080).runService()
/// ```
public enum ScopeGateHTTPServer {
    /// An application listening on `host:port` (use port 0 for any free port; `onServerRunning` gets the channel,
    /// whose `localAddress` tells the port).
    public static func application(
        gateway: MCPHTTPGateway, host: String = "127.0.0.1", port: Int = 8080,
        logger: Logger = Logger(label: "scopegate.http"),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> Application<GatewayResponder> {
        Application(
            responder: GatewayResponder(gateway: gateway),
            configuration: .init(address: .hostname(host, port: port), serverName: "scopegate"),
            onServerRunning: onServerRunning, logger: logger)
    }
}
