import Foundation

/// Redirect URI rules (RFC 6749 §3.1.2, RFC 8252, OAuth 2.1): https, or http to a loopback IP literal; no fragment;
/// no userinfo; and a redirect that arrives must match the registered URI exactly, character for character.
///
/// ```swift
/// try RedirectURI.validate("http://127.0.0.1:53124/callback")     // ok
/// try RedirectURI.validate("http://example.com/cb")               // throws: neither https nor loopback
/// RedirectURI.matches(sent: "http://127.0.0.1:1/cb", received: "http://127.0.0.1:1/cb/")   // false
/// ```
public enum RedirectURI {
    /// The URL of a valid redirect URI, or `client-redirect-uri` naming the broken rule.
    @discardableResult
    public static func validate(_ text: String) throws(ClientError) -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host else {
            throw ClientError(.redirectURI, "redirect URI `\(text)` is not an absolute URL")
        }
        if text.contains("#") {
            throw ClientError(.redirectURI, "redirect URI `\(text)` has a fragment (RFC 6749 §3.1.2)")
        }
        if url.user != nil || url.password != nil || authority(of: text)?.contains("@") == true {
            throw ClientError(.redirectURI, "redirect URI `\(text)` has userinfo")
        }
        switch scheme {
        case "https": return url
        case "http":
            guard isLoopback(host) else {
                throw ClientError(
                    .redirectURI, "redirect URI `\(text)`: http is only allowed to a loopback address (RFC 8252 §7.3)")
            }
            return url
        default:
            throw ClientError(.redirectURI, "redirect URI `\(text)` must be https or http on loopback, not `\(scheme)`")
        }
    }

    /// Whether a received redirect is for the URI sent: scheme, authority and path identical (the query holds the
    /// response parameters and is not compared).
    public static func matches(sent: String, received: String) -> Bool {
        let base = received.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        return base == sent
    }

    /// `127.0.0.0/8` or `::1` as an IP literal (`localhost` is not used: it may resolve elsewhere, RFC 8252 §8.3).
    static func isLoopback(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "::1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The authority of `scheme://authority/…`.
    static func authority(of text: String) -> Substring? {
        guard let range = text.range(of: "://") else { return nil }
        let rest = text[range.upperBound...]
        return rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    }
}
