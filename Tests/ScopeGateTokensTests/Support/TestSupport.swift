import Crypto
import CryptoExtras
import Foundation
import ScopeGate

@testable import ScopeGateTokens

// MARK: - Keys and signing (swift-crypto directly: an oracle independent of jwt-kit)

func b64url(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func b64url(_ s: String) -> String { b64url(Array(s.utf8)) }

/// A private key able to sign JWS and describe its public JWK.
enum TestKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case p256(P256.Signing.PrivateKey)
    case p384(P384.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    static let sharedRSA: _RSA.Signing.PrivateKey = {
        // 2048-bit generation takes ~100 ms; share one key across tests that need "an RSA key".
        (try? _RSA.Signing.PrivateKey(keySize: .bits2048)) ?? { fatalTest("rsa keygen failed") }()
    }()
    static let otherRSA: _RSA.Signing.PrivateKey = {
        (try? _RSA.Signing.PrivateKey(keySize: .bits2048)) ?? { fatalTest("rsa keygen failed") }()
    }()

    static func newRSA() -> TestKey { .rsa(sharedRSA) }

    /// The public JWK (without `kid`/`alg`, added by ``jwk(kid:alg:)``).
    func jwk(kid: String?, alg: String? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var out: [String: Any]
        switch self {
        case .rsa(let k):
            let p = try? k.publicKey.getKeyPrimitives()
            out = ["kty": "RSA", "n": b64url(p?.modulus ?? Data()), "e": b64url(p?.publicExponent ?? Data())]
        case .p256(let k):
            let raw = Array(k.publicKey.x963Representation.dropFirst())
            out = ["kty": "EC", "crv": "P-256", "x": b64url(raw[0..<32]), "y": b64url(raw[32...])]
        case .p384(let k):
            let raw = Array(k.publicKey.x963Representation.dropFirst())
            out = ["kty": "EC", "crv": "P-384", "x": b64url(raw[0..<48]), "y": b64url(raw[48...])]
        case .ed25519(let k):
            out = ["kty": "OKP", "crv": "Ed25519", "x": b64url(k.publicKey.rawRepresentation)]
        }
        if let kid { out["kid"] = kid }
        if let alg { out["alg"] = alg }
        out["use"] = "sig"
        for (k, v) in extra { out[k] = v }
        return out
    }

    func sign(_ input: [UInt8], alg: String) -> [UInt8] {
        do {
            switch self {
            case .rsa(let k):
                let pss = alg.hasPrefix("PS")
                let padding: _RSA.Signing.Padding = pss ? .PSS : .insecurePKCS1v1_5
                switch alg.suffix(3) {
                case "384":
                    return Array(try k.signature(for: SHA384.hash(data: input), padding: padding).rawRepresentation)
                case "512":
                    return Array(try k.signature(for: SHA512.hash(data: input), padding: padding).rawRepresentation)
                default:
                    return Array(try k.signature(for: SHA256.hash(data: input), padding: padding).rawRepresentation)
                }
            case .p256(let k): return Array(try k.signature(for: input).rawRepresentation)
            case .p384(let k): return Array(try k.signature(for: input).rawRepresentation)
            case .ed25519(let k): return Array(try k.signature(for: input))
            }
        } catch {
            return []
        }
    }
}

func fatalTest(_ message: String) -> Never {
    print("test setup failed: \(message)")
    exit(1)
}

func json(_ object: Any) -> String {
    guard
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else {
        return "{}"
    }
    return String(decoding: data, as: UTF8.self)
}

func jwksJSON(_ keys: [[String: Any]]) -> String { json(["keys": keys]) }

/// Signs a token from raw header and payload JSON text (so tests can produce duplicate keys and odd shapes).
func signRaw(header: String, payload: String, key: TestKey, alg: String) -> String {
    let input = b64url(header) + "." + b64url(payload)
    return input + "." + b64url(key.sign(Array(input.utf8), alg: alg))
}

/// Signs a token from dictionaries.
func sign(header: [String: Any], claims: [String: Any], key: TestKey) -> String {
    let alg = header["alg"] as? String ?? "RS256"
    return signRaw(header: json(header), payload: json(claims), key: key, alg: alg)
}

// MARK: - Clock and fetcher

final class TestClock: TokenClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    init(_ start: Date = Date(timeIntervalSince1970: 1_750_000_000)) { current = start }
    func now() -> Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
}

final class FakeFetcher: HTTPFetcher, @unchecked Sendable {
    struct Down: Error {}
    private let lock = NSLock()
    private var handler: @Sendable (HTTPRequest) throws -> HTTPResponse
    private(set) var requests: [HTTPRequest] = []

    init(_ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) { self.handler = handler }

    func set(_ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        lock.withLock { self.handler = handler }
    }
    var requestCount: Int { lock.withLock { requests.count } }
    var urls: [String] { lock.withLock { requests.map(\.url.absoluteString) } }

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        let h = lock.withLock {
            requests.append(request)
            return handler
        }
        return try h(request)
    }
}

// MARK: - Config

let testIssuer = "https://auth.example.com"
let testResource = "https://mcp.example.com/mcp"
let here = SourceLocation(file: "policy.yaml", line: 1, column: 1)

func issuerConfig(
    _ issuer: String = testIssuer, algorithms: [String] = ["RS256", "PS256", "ES256", "ES384", "EdDSA"],
    audiences: [String] = [], jwksURI: String? = nil, scopeClaims: [String]? = nil,
    roles: TokensConfig.RoleMapping? = nil, stripPrefixes: [String] = [],
    introspection: TokensConfig.Introspection? = nil
) -> TokensConfig.Issuer {
    TokensConfig.Issuer(
        issuer: issuer, jwksURI: jwksURI ?? issuer + "/jwks", algorithms: algorithms, audiences: audiences,
        scopeClaims: scopeClaims, roles: roles, stripPrefixes: stripPrefixes,
        introspection: introspection, location: here)
}

func keySet(_ keys: [[String: Any]]) async throws -> JWKSet {
    try await JWKSet.parse(Array(jwksJSON(keys).utf8))
}

/// Standard valid claims at the test clock's time.
func claims(_ clock: TestClock, _ extra: [String: Any] = [:], removing: [String] = []) -> [String: Any] {
    let now = clock.now().timeIntervalSince1970
    var c: [String: Any] = [
        "iss": testIssuer, "aud": testResource, "sub": "user-1", "client_id": "client-1",
        "iat": Int(now) - 10, "nbf": Int(now) - 10, "exp": Int(now) + 300, "jti": "jti-1",
        "scope": "mcp:tools:climate read:files",
    ]
    for (k, v) in extra { c[k] = v }
    for k in removing { c[k] = nil }
    return c
}

/// Expects `body` to throw a `TokenError` with `code`; returns whether it did.
func expectCode(_ code: TokenError.Code, _ body: () async throws -> VerifiedToken) async -> TokenError.Code? {
    do {
        _ = try await body()
        return nil
    } catch let error as TokenError {
        return error.code
    } catch {
        return nil
    }
}

/// Starts `executable args…` with posix_spawn, stdin/stdout/stderr on /dev/null; the pid, or nil if it could not
/// start. Stop it with ``stopSpawned(_:)``. (Not Foundation's `Process`, which on Linux keeps each instance alive
/// after it exits: LeakSanitizer reports it and everything it holds.)
func spawnQuietly(_ executable: String, _ args: [String]) -> pid_t? {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([executable] + args).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { return nil }
    return pid
}

/// Kills a process started by ``spawnQuietly(_:_:)`` and reaps it.
func stopSpawned(_ pid: pid_t) {
    kill(pid, SIGKILL)
    var status: Int32 = 0
    _ = waitpid(pid, &status, 0)
}

/// Runs `/bin/bash script args…` with posix_spawn, output to `log`, and waits (polling `waitpid`, at most
/// `seconds`). Returns the exit status, or nil on timeout (the script is then killed). Foundation's `Process`
/// is avoided here: on Linux it sometimes never notices that a script which backgrounds a daemon has exited.
func runScript(_ script: String, _ args: [String], log: String, seconds: Double) -> Int32? {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    let argv = (["/bin/bash", script] + args).map { strdup($0) } + [nil]
    defer { for arg in argv { free(arg) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ) == 0 else { return nil }
    let deadline = Date().addingTimeInterval(seconds)
    var status: Int32 = 0
    while Date() < deadline {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { return (status >> 8) & 0xFF }
        if r < 0 { return nil }
        usleep(50_000)
    }
    kill(pid, SIGKILL)
    _ = waitpid(pid, &status, 0)
    return nil
}
