import AsyncHTTPClient
import Foundation
import ScopeGate

/// The outbound proxy the environment names, read the way curl reads it, so that the gateway's requests to
/// identity providers and bundle servers leave through the same egress proxy as the host's other tools:
///
/// - `https_proxy` (or `HTTPS_PROXY`) for `https` URLs; `http_proxy` for `http` URLs (lowercase only, as curl:
///   a CGI-style server sets `HTTP_PROXY` from a request's `Proxy:` header); `all_proxy` (or `ALL_PROXY`) for
///   either when its own variable is unset or empty;
/// - the proxy is `[http://][user:password@]host[:port]` (port 1080 when absent, as curl); requests go through it
///   with HTTP `CONNECT` (AsyncHTTPClient's tunnel), so TLS stays end to end;
/// - `no_proxy` (or `NO_PROXY`): comma-separated hosts reached directly. A name matches itself and its subdomains
///   (`example.com` and `.example.com` both match `idp.example.com`), an address matches itself, `*` matches every
///   host; `localhost` and loopback addresses are always reached directly.
///
/// ```swift
/// let proxy = EnvironmentProxy(environment: ["https_proxy": "http://egress.internal:3128", "no_proxy": ".corp"])
/// proxy.server(for: URL(string: "https://login.example.com/jwks")!)   // egress.internal:3128
/// proxy.server(for: URL(string: "https://idp.corp/jwks")!)            // nil: direct
/// ```
public struct EnvironmentProxy: Sendable, Hashable {
    /// One proxy server.
    public struct Server: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var username: String?
        public var password: String?

        public init(host: String, port: Int, username: String? = nil, password: String? = nil) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
        }

        /// AsyncHTTPClient's configuration of this server (`CONNECT`, with basic authorization when it has a user).
        var configuration: HTTPClient.Configuration.Proxy {
            .server(
                host: host, port: port,
                authorization: username.map { .basic(username: $0, password: password ?? "") })
        }
    }

    /// The proxy of `https` URLs.
    public var https: Server?
    /// The proxy of `http` URLs.
    public var http: Server?
    /// The `no_proxy` entries, lowercased, without leading dots.
    public var direct: [String]

    /// No proxy: every request goes directly.
    public static let none = EnvironmentProxy(environment: [:])

    /// Reads `environment` (by default the process's).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { environment[$0] }.first { !$0.isEmpty }
        }
        let all = value("all_proxy", "ALL_PROXY").flatMap(Self.parse)
        https = value("https_proxy", "HTTPS_PROXY").flatMap(Self.parse) ?? all
        http = value("http_proxy").flatMap(Self.parse) ?? all
        direct = (value("no_proxy", "NO_PROXY") ?? "").split(separator: ",").compactMap { entry in
            var name = entry.trimmingCharacters(in: .whitespaces).lowercased()
            while name.hasPrefix(".") { name.removeFirst() }
            return name.isEmpty ? nil : name
        }
    }

    /// The proxy that `url` goes through, or nil when it is reached directly.
    public func server(for url: URL) -> Server? {
        guard let host = url.host?.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else {
            return nil
        }
        if ["localhost", "127.0.0.1", "::1"].contains(host) || host.hasPrefix("127.") { return nil }
        for entry in direct where entry == "*" || host == entry || host.hasSuffix("." + entry) { return nil }
        switch url.scheme?.lowercased() {
        case "https": return https
        case "http": return http
        default: return nil
        }
    }

    /// `[scheme://][user:password@]host[:port][/]`; nil when it names no host or an unusable port.
    static func parse(_ text: String) -> Server? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed.contains("://") ? trimmed : "http://" + trimmed),
            let host = url.host, !host.isEmpty
        else { return nil }
        let port = url.port ?? 1080
        guard (1...65535).contains(port) else { return nil }
        return Server(
            host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port,
            username: url.user.flatMap { $0.removingPercentEncoding ?? $0 },
            password: url.password.flatMap { $0.removingPercentEncoding ?? $0 })
    }
}

/// The fetchers' clients: one that connects directly and one per proxy server, each made on first use and kept
/// for the life of the process (an `HTTPClient` must be shut down before it is released; these never are). None
/// follows redirects: ``AsyncHTTPClientFetcher`` follows those ``HTTPRedirect`` allows.
enum ProxiedClients {
    private static let clients = LockedValue<[EnvironmentProxy.Server?: HTTPClient]>([:])

    /// The client for requests through `server`, or sent directly when it is nil.
    static func client(for server: EnvironmentProxy.Server?) -> HTTPClient {
        clients.withLock { clients in
            if let client = clients[server] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.proxy = server?.configuration
            configuration.redirectConfiguration = .disallow
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[server] = client
            return client
        }
    }
}
