import Hummingbird
import ScopeGateCommandLine
import ScopeGateOperations
import ServiceLifecycle

/// The listener of `--metrics-listen`: `/metrics`, `/healthz` and `/readyz` on an address of their own (an
/// admin port that a firewall or a Kubernetes `NetworkPolicy` keeps apart from client traffic), served beside the
/// main listener and stopped with it. Everything else is 404.
enum MetricsListener {
    /// The listener at `address` over `endpoints`.
    static func service(_ address: ListenAddress, endpoints: OperationsEndpoints) -> any Service {
        Application(
            responder: Responder(endpoints: endpoints),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "scopegate"))
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let endpoints: OperationsEndpoints

        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            guard request.method == .get || request.method == .head,
                let answer = endpoints.respond(path: request.uri.path)
            else {
                let known = OperationsEndpoints.paths.contains(request.uri.path)
                return Response(
                    status: known ? .methodNotAllowed : .notFound, headers: [.contentType: "text/plain; charset=utf-8"])
            }
            return Response(
                status: .init(code: answer.status), headers: [.contentType: answer.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
        }
    }
}
