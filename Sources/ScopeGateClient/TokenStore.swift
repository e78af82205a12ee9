import Crypto
import Foundation

/// Tokens on disk, encrypted at rest with AES-GCM: one file per (issuer, resource, scope set), named by the SHA-256
/// of that key and bound to it as authenticated data, so a file copied under another name does not decrypt. The
/// key is 32 bytes: base64 in the environment variable `SCOPEGATE_TOKEN_KEY`, else a key file (`key`, created
/// with mode 0600; a key file readable by others is refused). Files are written with mode 0600.
///
/// A token is never stored expired; an entry whose access token has expired is handed back only to refresh it
/// (``Lookup/stale``) when it has a refresh token, and deleted otherwise.
///
/// ```swift
/// let store = try TokenStore(directory: URL(fileURLWithPath: "~/.cache/scopegate/tokens"))
/// let key = TokenStore.Key(issuer: server.issuer, resource: resource, scopes: plan.scopes)
/// switch try store.lookup(key) {
/// case .fresh(let token): use(token)
/// case .stale(let token): try store.save(try await oauth.refresh(token, resource: resource), for: key)
/// case .missing: break
/// }
/// ```
public struct TokenStore: Sendable {
    /// What identifies an entry.
    public struct Key: Sendable, Hashable {
        public var issuer: String
        public var resource: String
        /// Sorted and deduplicated.
        public var scopes: [String]
        public init(issuer: String, resource: String, scopes: [String]) {
            self.issuer = issuer
            self.resource = resource
            self.scopes = Array(Set(scopes)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        /// The authenticated data and file-name source: the three parts, NUL-separated.
        var text: String { issuer + "\u{0}" + resource + "\u{0}" + scopes.joined(separator: " ") }
        var fileName: String {
            SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined() + ".token"
        }
    }

    /// The result of a lookup.
    public enum Lookup: Sendable, Hashable {
        case fresh(IssuedToken)
        /// Expired, with a refresh token: refresh it and save the answer.
        case stale(IssuedToken)
        case missing
    }

    /// The environment variable holding a base64 key.
    public static let keyVariable = "SCOPEGATE_TOKEN_KEY"

    public let directory: URL
    let key: SymmetricKey
    let clock: @Sendable () -> Date

    /// A store in `directory` (created 0700), with the key from `environment[SCOPEGATE_TOKEN_KEY]` or
    /// `directory/key`.
    public init(
        directory: URL, environment: [String: String] = ProcessInfo.processInfo.environment,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) throws(ClientError) {
        self.directory = directory
        self.clock = clock
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ClientError(
                .store, "cannot create the token cache `\(directory.path)`: \(error.localizedDescription)")
        }
        key = try Self.key(environment: environment, file: directory.appendingPathComponent("key"))
    }

    /// The key: from the environment (32 bytes, base64), else the key file, created with 32 random bytes.
    static func key(environment: [String: String], file: URL) throws(ClientError) -> SymmetricKey {
        if let text = environment[keyVariable] {
            guard let bytes = Data(base64Encoded: text), bytes.count == 32 else {
                throw ClientError(.store, "`\(keyVariable)` must be 32 bytes in base64")
            }
            return SymmetricKey(data: bytes)
        }
        let manager = FileManager.default
        if let attributes = try? manager.attributesOfItem(atPath: file.path) {
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? 0o777
            guard mode & 0o077 == 0 else {
                throw ClientError(
                    .store,
                    "the key file `\(file.path)` is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
            }
            guard let data = manager.contents(atPath: file.path), data.count == 32 else {
                throw ClientError(.store, "the key file `\(file.path)` does not hold 32 bytes")
            }
            return SymmetricKey(data: data)
        }
        let fresh = SymmetricKey(size: .bits256)
        let bytes = fresh.withUnsafeBytes { Data($0) }
        guard manager.createFile(atPath: file.path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw ClientError(.store, "cannot write the key file `\(file.path)`")
        }
        return fresh
    }

    /// The entry for `key`: fresh, stale (expired, refreshable) or missing (an expired entry without a refresh
    /// token, or one that does not decrypt, is deleted).
    public func lookup(_ key: Key) throws(ClientError) -> Lookup {
        let file = directory.appendingPathComponent(key.fileName)
        guard let sealed = FileManager.default.contents(atPath: file.path) else { return .missing }
        let token: IssuedToken
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            let plain = try AES.GCM.open(box, using: self.key, authenticating: Array(key.text.utf8))
            token = try JSONDecoder().decode(IssuedToken.self, from: plain)
        } catch {
            try? FileManager.default.removeItem(at: file)
            return .missing
        }
        guard token.isExpired(at: clock()) else { return .fresh(token) }
        if token.refreshToken != nil { return .stale(token) }
        try? FileManager.default.removeItem(at: file)
        return .missing
    }

    /// Stores `token` under `key` (replacing the entry, so a rotated refresh token replaces the old one). An
    /// expired token is not stored: its entry is deleted instead.
    public func save(_ token: IssuedToken, for key: Key) throws(ClientError) {
        let file = directory.appendingPathComponent(key.fileName)
        guard !token.isExpired(at: clock()) else {
            try? FileManager.default.removeItem(at: file)
            return
        }
        do {
            let plain = try JSONEncoder().encode(token)
            let sealed = try AES.GCM.seal(plain, using: self.key, authenticating: Array(key.text.utf8))
            guard let combined = sealed.combined else { throw ClientError(.store, "cannot seal the token") }
            let temporary = directory.appendingPathComponent(".\(key.fileName).\(UUID().uuidString)")
            guard
                FileManager.default.createFile(
                    atPath: temporary.path, contents: combined, attributes: [.posixPermissions: 0o600])
            else { throw ClientError(.store, "cannot write `\(temporary.path)`") }
            if rename(temporary.path, file.path) != 0 {
                try? FileManager.default.removeItem(at: temporary)
                throw ClientError(.store, "cannot replace `\(file.path)`")
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.store, "cannot store the token: \(error)")
        }
    }

    /// Deletes the entry for `key`.
    public func remove(_ key: Key) {
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(key.fileName))
    }
}
