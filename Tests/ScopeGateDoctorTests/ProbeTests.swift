import Foundation
import ScopeGate
import ScopeGateTokens
import Testing

@testable import ScopeGateDoctor

/// Answers from a table of URL → (status, body); anything else is 404. Records every request.
final class TableFetcher: HTTPFetcher, @unchecked Sendable {
    let table: [String: (Int, String, [String: String])]
    private let lock = NSLock()
    private var seen: [HTTPRequest] = []

    init(_ table: [String: (Int, String, [String: String])]) { self.table = table }

    var requests: [HTTPRequest] { lock.withLock { seen } }

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { seen.append(request) }
        let (status, body, headers) = table[request.url.absoluteString] ?? (404, "", [:])
        if request.method == "POST", request.headers["Authorization"] != nil {
            return HTTPResponse(status: 401, body: [])
        }
        return HTTPResponse(status: status, headers: headers, body: Array(body.utf8))
    }
}

@Suite struct ProbeTests {
    typealias D = Deployment

    @Test func serverMetadataURLsInTheOrderClientsTry() {
        #expect(
            DeploymentProbe.serverMetadataURLs(issuer: "https://idp.example.com/realms/mcp") == [
                "https://idp.example.com/.well-known/oauth-authorization-server/realms/mcp",
                "https://idp.example.com/.well-known/openid-configuration/realms/mcp",
                "https://idp.example.com/realms/mcp/.well-known/openid-configuration",
            ])
        #expect(
            DeploymentProbe.serverMetadataURLs(issuer: "https://idp.example.com") == [
                "https://idp.example.com/.well-known/oauth-authorization-server",
                "https://idp.example.com/.well-known/openid-configuration",
            ])
    }

    @Test func collectsEveryDocumentAndFollowsTheMetadata() async {
        let fetcher = TableFetcher([
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp": (200, D.prm, [:]),
            "https://mcp.example.com/.well-known/oauth-protected-resource": (200, D.prm, [:]),
            // RFC 8414 is missing; OpenID discovery (path appended) answers.
            "https://idp.example.com/realms/mcp/.well-known/openid-configuration": (200, D.server, [:]),
            "https://idp.example.com/realms/mcp/jwks": (200, D.jwks, [:]),
            "https://mcp.example.com/mcp": (
                401, "", ["WWW-Authenticate": #"Bearer resource_metadata="https://mcp.example.com/x""#]
            ),
        ])
        let e = await DeploymentProbe(fetcher: fetcher).collect(
            resource: D.resource, issuer: nil, token: D.goodToken, otherAudienceToken: "other")
        #expect(e.issuer == D.issuer)
        #expect(!e.issuerGiven)
        #expect(e.authorizationServer?.url == "https://idp.example.com/realms/mcp/.well-known/openid-configuration")
        #expect(e.jwks?.object != nil)
        #expect(e.challenge?.status == 401)
        #expect(e.otherAudience?.status == 401)
        #expect(e.resourceAnswered)
        let posts = fetcher.requests.filter { $0.method == "POST" }
        #expect(posts.count == 2)
        #expect(posts.first?.headers["Authorization"] == nil)
        #expect(posts.last?.headers["Authorization"] == "Bearer other")
        var judged = e
        judged.now = D.now
        let report = DoctorReport(resource: D.resource, findings: DeploymentDoctor.evaluate(judged))
        #expect(report.score == 100, "\(report.human(color: false))")
    }

    @Test func nothingAnsweringMeansTheDoctorCannotRun() async {
        struct Refusing: HTTPFetcher {
            struct Refused: Error {}
            func fetch(_ request: HTTPRequest) async throws -> HTTPResponse { throw Refused() }
        }
        let e = await DeploymentProbe(fetcher: Refusing()).collect(
            resource: D.resource, issuer: nil, token: nil, otherAudienceToken: nil)
        #expect(!e.resourceAnswered)
        #expect(e.prmPathForm?.error?.hasPrefix("no answer") == true)
    }
}
