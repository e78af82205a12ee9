import Foundation
import ScopeGate
import ScopeGateTokens

/// `Authorization` and `WWW-Authenticate` (RFC 6750) helpers.
enum Bearer {
    /// The token of an `Authorization: Bearer <token>` header; nil when absent or not the Bearer scheme.
    /// The token must be token68 characters (RFC 6750 §2.1), non-empty and contain no whitespace.
    /// Leading and trailing spaces and tabs (HTTP's optional whitespace) are ignored; the scheme is matched
    /// case-insensitively and must be followed by at least one space. Works on the UTF-8 bytes: this runs on
    /// every request (up to three times: gateway, SDK validator, handler), so no Foundation string APIs.
    static func token(fromAuthorization header: String?) -> String? {
        guard let header else { return nil }
        let bytes = header.utf8
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isSpaceOrTab(bytes[start]) { start = bytes.index(after: start) }
        while start < end, isSpaceOrTab(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        for expected in "bearer".utf8 {
            guard start < end, bytes[start] | 0x20 == expected else { return nil }
            start = bytes.index(after: start)
        }
        guard start < end, bytes[start] == UInt8(ascii: " ") else { return nil }
        while start < end, isSpaceOrTab(bytes[start]) { start = bytes.index(after: start) }
        guard start < end else { return nil }
        let token = bytes[start..<end]
        let valid = token.withContiguousStorageIfAvailable { isToken68($0) } ?? isToken68(token)
        return valid ? String(decoding: token, as: UTF8.self) : nil
    }

    /// Whether every byte is a token68 character (RFC 7235 §2.1).
    @inline(__always)
    private static func isToken68<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        for u in bytes {
            let letterOrDigit = (u &- 0x30) < 10 || ((u | 0x20) &- 0x61) < 26
            if !letterOrDigit, u != UInt8(ascii: "-"), u != UInt8(ascii: "."), u != UInt8(ascii: "_"),
                u != UInt8(ascii: "~"), u != UInt8(ascii: "+"), u != UInt8(ascii: "/"), u != UInt8(ascii: "=")
            {
                return false
            }
        }
        return true
    }

    private static func isSpaceOrTab(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    /// Keeps a challenge parameter value to at most 200 printable ASCII characters without `"` or `\`.
    static func safe(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars.prefix(200) {
            if u.value >= 0x20, u.value < 0x7F, u != "\"", u != "\\" {
                out.unicodeScalars.append(u)
            } else {
                out += "?"
            }
        }
        return out
    }

    /// `Bearer k="v", …` from ordered parameters (values made header-safe).
    static func challenge(_ parameters: [(String, String)]) -> String {
        parameters.isEmpty
            ? "Bearer" : "Bearer " + parameters.map { "\($0.0)=\"\(safe($0.1))\"" }.joined(separator: ", ")
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
