import Foundation
import ScopeGate
import ScopeGateTokens

/// The downstream API of the `update_client` tool: a small client-records service (`PUT /clients/{id}`) that, like
/// any API behind an MCP server should, accepts only tokens issued for **its own** audience with its own scope. A
/// token passed through from the MCP client (audience: the MCP server) is refused with 401.
struct ClientRecordsAPI: Sendable {
    /// The API's audience (`downstream.audience` of `update_client` in policies/climate.yaml).
    static let audience = "https://crm.climate.example.com"
    /// The scope it requires for writes.
    static let writeScope = "crm:clients:write"

    let verifier: TokenVerifier

    /// An API trusting the issuers of `tokens`, with its own audience (no `typ` requirement: exchanged tokens are
    /// typed by the issuer, e.g. Keycloak's `JWT`).
    init(tokens: TokensConfig, fetcher: any HTTPFetcher, clock: any TokenClock) {
        var own = tokens
        own.requireTyp = nil
        for i in own.issuers.indices {
            own.issuers[i].audiences = [Self.audience]
            own.issuers[i].introspection = nil
        }
        verifier = TokenVerifier(config: own, resource: Self.audience, fetcher: fetcher, clock: clock, environment: [:])
    }

    /// Handles one request; returns the status and a JSON body.
    func handle(method: String, path: String, authorization: String?, body: [UInt8]) async -> (
        status: Int, body: String
    ) {
        guard method == "PUT", path.hasPrefix("/clients/"), path.count > "/clients/".count, path.count < 128 else {
            return (404, #"{"error":"not_found"}"#)
        }
        guard let header = authorization, header.lowercased().hasPrefix("bearer ") else {
            return (401, #"{"error":"invalid_token","error_description":"bearer token required"}"#)
        }
        let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let verified: VerifiedToken
        do throws(TokenError) {
            verified = try await verifier.verify(token)
        } catch {
            return (401, "{\"error\":\"invalid_token\",\"error_description\":\(JSONText.quote(error.message))}")
        }
        guard verified.scopes.contains(Self.writeScope) else {
            return (403, "{\"error\":\"insufficient_scope\",\"scope\":\"\(Self.writeScope)\"}")
        }
        let id = String(path.dropFirst("/clients/".count).prefix(64))
        return (
            200,
            "{\"updated\":\(JSONText.quote(id)),\"bytes\":\(body.count),\"by\":\(JSONText.quote(verified.subject ?? "-"))}"
        )
    }
}

/// How `update_client` reaches the client-records API: `PUT <base>/clients/<id>` with the exchanged token.
struct ClientRecordsClient: Sendable {
    /// The API's base URL (`CRM_API_URL`, or the in-process API's address once it listens).
    let base: LockedValue<URL?>
    let fetcher: any HTTPFetcher

    init(base: URL?, fetcher: any HTTPFetcher) {
        self.base = LockedValue(base)
        self.fetcher = fetcher
    }

    func update(client id: String, fields: String, token: DownstreamToken) async -> (status: Int, body: String)? {
        guard let base = base.withLock({ $0 }),
            let encoded = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics),
            let url = URL(string: base.absoluteString + "/clients/" + encoded)
        else { return nil }
        let request = ScopeGateTokens.HTTPRequest(
            method: "PUT", url: url,
            headers: ["Authorization": token.authorizationHeaderValue, "Content-Type": "application/json"],
            body: Array(fields.utf8), maxResponseBytes: 64 * 1024)
        guard let response = try? await fetcher.fetch(request) else { return nil }
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }
}
