import Foundation
import ScopeGate
import ScopeGateTokens

/// `Authorization` and `WWW-Authenticate` (RFC 6750) helpers.
enum Bearer {
    /// The token of an `Authorization: Bearer <token>` header; nil when absent or not the Bearer scheme.
    /// The token must be token68 characters (RFC 6750 §2.1), non-empty and contain no whitespace.
    static func token(fromAuthorization header: String?) -> String? {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        for u in token.utf8 {
            let ok = (u >= 0x30 && u <= 0x39) || (u >= 0x41 && u <= 0x5A) || (u >= 0x61 && u <= 0x7A)
                || u == UInt8(ascii: "-") || u == UInt8(ascii: ".") || u == UInt8(ascii: "_") || u == UInt8(ascii: "~")
                || u == UInt8(ascii: "+") || u == UInt8(ascii: "/") || u == UInt8(ascii: "=")
            if !ok { return nil }
        }
        return token
    }

    /// Keeps a challenge parameter value to at most 200 printable ASCII characters without `"` or `\`.
    static func safe(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(200) {
            if u.value >= 0x20, u.value < 0x7F, u != "\"", u != "\\" { out.unicodeScalars.append(u) } else { out += "?" }
        }
        return out
    }

    /// `Bearer k="v", …` from ordered parameters (values made header-safe).
    static func challenge(_ parameters: [(String, String)]) -> String {
        parameters.isEmpty ? "Bearer" : "Bearer " + parameters.map { "\($0.0)=\"\(safe($0.1))\"" }.joined(separator: ", ")
    }

    /// The RFC 9728 metadata URL (path form) of a resource id: `scheme://host[:port]/.well-known/oauth-protected-resource/path`.
    static func metadataURL(forResource id: String) -> String? {
        guard let url = URL(string: id), let scheme = url.scheme, let host = url.host, !host.isEmpty else { return nil }
        let port = url.port.map { ":\($0)" } ?? ""
        let path = url.path == "/" ? "" : url.path
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart)\(port)/.well-known/oauth-protected-resource\(path)"
    }
}
