import Foundation
import ScopeGate
import ScopeGateRequestAuthorization
import ScopeGateTokens

/// Fetches a deployment's documents and asks the resource the questions the checklist needs: the two forms of
/// protected resource metadata, the authorization server's metadata (RFC 8414, then OpenID discovery), its JWKS,
/// an MCP request without a token and one with a token for another audience. Every answer, good or bad, becomes
/// part of the ``DeploymentEvidence``; nothing here judges.
///
/// ```swift
/// let probe = DeploymentProbe(fetcher: URLSessionFetcher(timeout: 10))
/// let evidence = await probe.collect(resource: "https://mcp.example.com/mcp", issuer: nil, token: nil,
///                                    otherAudienceToken: nil)
/// let report = DoctorReport(resource: evidence.resource, findings: DeploymentDoctor.evaluate(evidence))
/// ```
public struct DeploymentProbe: Sendable {
    /// The largest document read (1 MiB).
    public static let maxDocumentBytes = 1 << 20

    let fetcher: any HTTPFetcher

    public init(fetcher: any HTTPFetcher) { self.fetcher = fetcher }

    /// Fetches everything for `resource`; `issuer` defaults to the metadata's first authorization server.
    public func collect(
        resource: String, issuer: String?, token: String?, otherAudienceToken: String?
    ) async -> DeploymentEvidence {
        var e = DeploymentEvidence(resource: resource)
        e.token = token
        if let pathForm = BearerChallenge.metadataURL(forResource: resource) {
            e.prmPathForm = await get(pathForm)
            let root = Self.origin(of: resource).map { $0 + "/.well-known/oauth-protected-resource" }
            if let root, root != pathForm { e.prmRootForm = await get(root) }
        }
        e.issuer = issuer ?? DeploymentDoctor.metadata(e)?.strings("authorization_servers")?.first
        e.issuerGiven = issuer != nil
        if let issuer = e.issuer {
            for url in Self.serverMetadataURLs(issuer: issuer) {
                let answer = await get(url)
                e.authorizationServer = answer
                if answer.object != nil { break }
            }
        }
        if let jwks = DeploymentDoctor.serverMetadata(e)?.string("jwks_uri") { e.jwks = await get(jwks) }
        e.challenge = await postInitialize(resource, token: nil)
        if let otherAudienceToken { e.otherAudience = await postInitialize(resource, token: otherAudienceToken) }
        return e
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(of text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme, let host = url.host, !host.isEmpty else {
            return nil
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// Where an issuer's metadata may be, in the order MCP clients try them: RFC 8414 with the path inserted,
    /// OpenID discovery with the path inserted, OpenID discovery appended to the issuer.
    static func serverMetadataURLs(issuer: String) -> [String] {
        guard let origin = origin(of: issuer), let url = URL(string: issuer) else { return [] }
        let path = url.path == "/" ? "" : url.path
        var urls = [origin + "/.well-known/oauth-authorization-server" + path]
        if !path.isEmpty { urls.append(origin + "/.well-known/openid-configuration" + path) }
        let appended =
            (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
        if !urls.contains(appended) { urls.append(appended) }
        return urls
    }

    func get(_ text: String) async -> FetchedDocument {
        guard let url = URL(string: text) else { return FetchedDocument(url: text, error: "not a URL") }
        return await exchange(
            HTTPRequest(url: url, headers: ["Accept": "application/json"], maxResponseBytes: Self.maxDocumentBytes),
            shown: text)
    }

    /// An MCP `initialize` (2025-11-25) as a client's first request, with `token` when given.
    func postInitialize(_ resource: String, token: String?) async -> FetchedDocument {
        guard let url = URL(string: resource) else { return FetchedDocument(url: resource, error: "not a URL") }
        let body =
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"#
            + #""clientInfo":{"name":"scopegate-doctor","version":"0.1.0"}}}"#
        var headers = [
            "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        ]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return await exchange(
            HTTPRequest(
                method: "POST", url: url, headers: headers, body: Array(body.utf8),
                maxResponseBytes: Self.maxDocumentBytes),
            shown: resource)
    }

    func exchange(_ request: HTTPRequest, shown: String) async -> FetchedDocument {
        do {
            let response = try await fetcher.fetch(request)
            let json = try? JSONParser().parse(String(decoding: response.body, as: UTF8.self))
            return FetchedDocument(url: shown, status: response.status, headers: response.headers, json: json)
        } catch {
            return FetchedDocument(url: shown, error: "no answer (\(error.localizedDescription))")
        }
    }
}

extension DeploymentEvidence {
    /// Whether anything at the resource's host answered HTTP; when nothing did, the doctor cannot run.
    public var resourceAnswered: Bool {
        [prmPathForm, prmRootForm, challenge].contains { $0?.status != nil }
    }
}
