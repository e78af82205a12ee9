import Foundation
import Hummingbird
import Logging

/// Serves ``ClientRecordsAPI`` over HTTP/1.1 (the example runs it on 127.0.0.1 next to the MCP server).
struct ClientRecordsResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let api: ClientRecordsAPI

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 64 * 1024) else {
            return Response(status: .contentTooLarge)
        }
        let (status, body) = await api.handle(
            method: request.method.rawValue, path: request.uri.path,
            authorization: request.headers[.authorization],
            body: Array(buffer.readableBytesView))
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// The application on `127.0.0.1:port` (0: any free port); `onListening` gets the bound port.
    static func application(
        api: ClientRecordsAPI, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) -> Void
    ) -> Application<ClientRecordsResponder> {
        Application(
            responder: ClientRecordsResponder(api: api),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "climate-crm"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
