import Foundation
import ScopeGate

/// How this server authenticates as an OAuth client at an authorization server endpoint (RFC 6749 §2.3.1), shared
/// by introspection (RFC 7662) and token exchange (RFC 8693). The secret is read from the environment variable the
/// policy names, at request time, and never logged.
struct ClientAuthentication: Sendable, Hashable {
    let clientID: String
    let secretEnv: String
    let method: TokensConfig.Exchange.ClientAuthentication

    enum Failure: Error { case secretMissing(String) }

    /// The form POST of `form` to an endpoint, with the credentials: an `Authorization: Basic` header (id and
    /// secret form-encoded first, then base64 of `id:secret`), or `client_id`/`client_secret` form fields.
    func post(
        _ form: [(String, String)], to url: URL, environment: [String: String], maxResponseBytes: Int
    ) throws(Failure) -> HTTPRequest {
        guard let secret = environment[secretEnv], !secret.isEmpty else { throw .secretMissing(secretEnv) }
        var headers = ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"]
        var form = form
        switch method {
        case .basic:
            let pair = "\(FormEncoding.encode(clientID)):\(FormEncoding.encode(secret))"
            headers["Authorization"] = "Basic " + Data(pair.utf8).base64EncodedString()
        case .post:
            form.append(("client_id", clientID))
            form.append(("client_secret", secret))
        }
        return HTTPRequest(
            method: "POST", url: url, headers: headers, body: Array(FormEncoding.body(form).utf8),
            maxResponseBytes: maxResponseBytes)
    }
}

/// `application/x-www-form-urlencoded` bodies.
enum FormEncoding {
    /// Percent-encodes everything but unreserved characters; space becomes `+`.
    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(
            of: "%20", with: "+")
    }

    /// `k=v&k=v` in the given order.
    static func body(_ fields: [(String, String)]) -> String {
        fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }
}
