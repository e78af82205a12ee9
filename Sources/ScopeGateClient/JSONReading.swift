import Foundation
import ScopeGate
import ScopeGateTokens

/// Reading the JSON documents of discovery and token responses (through the core's parser, bounded).
extension JSONValue {
    subscript(member name: String) -> JSONValue? {
        if case .object(let object) = self { return object[name] }
        return nil
    }
    var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap(\.string)
    }
    var int: Int? {
        if case .number(let n) = self { return Int(n.description) ?? Int(NSDecimalNumber(decimal: n).doubleValue) }
        return nil
    }
}

enum ClientJSON {
    /// The JSON object of a response body, or `client-bad-document` naming `what`.
    static func object(_ body: [UInt8], what: String) throws(ClientError) -> JSONValue {
        let text = String(decoding: body, as: UTF8.self)
        guard let value = try? JSONParser(maxDepth: 64).parse(text), case .object = value else {
            throw ClientError(.badDocument, "\(what) is not a JSON object")
        }
        return value
    }

    /// `application/x-www-form-urlencoded` body text.
    static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&").utf8)
    }

    /// Percent-encoding for form values and query parameters (unreserved characters kept).
    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

extension HTTPFetcher {
    /// GET or POST with a bounded body (1 MiB), transport errors as `client-http`.
    func send(
        _ method: String, _ url: URL, headers: [String: String] = [:], body: [UInt8] = []
    ) async throws(ClientError) -> HTTPResponse {
        do {
            return try await fetch(
                HTTPRequest(method: method, url: url, headers: headers, body: body, maxResponseBytes: 1 << 20))
        } catch {
            throw ClientError(.http, "\(method) \(url.absoluteString) failed: \(error)")
        }
    }
}
