import Foundation

/// A bounded LRU cache of verified tokens, each with an attached value (e.g. the core's resolved grant).
///
/// The key is the token's bytes: looked up with Swift's `Hasher` over the length and the last 32 bytes (a JWT's
/// signature) and confirmed by a full byte-for-byte `memcmp` (no cryptographic hash per call, no
/// Unicode-equivalence matching). An entry is
/// served only while `now < expiresAt` of its token (from the injected clock), so the cache never extends a
/// token's life. Typical hit cost is a hash, one comparison and a clock read: well under a microsecond.
///
/// Thread-safe behind a lock (not an actor) so that the hit path needs no suspension. The lookups are
/// `@inlinable`, so a caller's module specializes them for its `Extra`: unspecialized, every lookup asked the
/// runtime for the generic types' metadata (the key, the node, the optional result), about a third of a hit's cost.
///
/// ```swift
/// let cache = VerifiedTokenCache<Grant>(capacity: 10_000)
/// if let grant = cache.extra(for: bearer) { return grant }     // a hit: no verification
/// let token = try await verifier.verify(bearer)
/// let grant = policy.grant(token.scopes, stripPrefixes: token.stripPrefixes)
/// cache.insert(bearer, verified: token, extra: grant)
/// ```
public final class VerifiedTokenCache<Extra: Sendable>: @unchecked Sendable {
    @usableFromInline
    struct Key: Hashable {
        @usableFromInline let token: String

        @usableFromInline init(token: String) { self.token = token }

        /// The length and the last 32 bytes. A JWT ends in its signature, so those bytes differ between any two
        /// tokens, and only tokens that passed verification are ever inserted: nobody but a trusted issuer can
        /// put keys in the table, so a short hash cannot be used to crowd one bucket. Equality still compares
        /// every byte.
        @usableFromInline func hash(into hasher: inout Hasher) {
            let utf8 = token.utf8
            hasher.combine(utf8.count)
            let hashed: Bool? = utf8.withContiguousStorageIfAvailable { bytes in
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.suffix(32))))
                return true
            }
            if hashed == nil { for byte in utf8.suffix(32) { hasher.combine(byte) } }
        }

        /// Byte-for-byte (`memcmp` over contiguous UTF-8; no Unicode-equivalence matching).
        @usableFromInline static func == (a: Key, b: Key) -> Bool {
            let x = a.token.utf8
            let y = b.token.utf8
            guard x.count == y.count else { return false }
            let same: Bool?? = x.withContiguousStorageIfAvailable { p in
                y.withContiguousStorageIfAvailable { q in
                    guard let pa = p.baseAddress, let qa = q.baseAddress else { return p.count == q.count }
                    return memcmp(pa, qa, p.count) == 0
                }
            }
            if let same = same ?? nil { return same }
            return x.elementsEqual(y)
        }
    }

    @usableFromInline
    struct Node {
        @usableFromInline var key: Key
        @usableFromInline var token: VerifiedToken
        @usableFromInline var extra: Extra
        @usableFromInline var prev: Int
        @usableFromInline var next: Int
    }

    // All state below is guarded by `lock`.
    @usableFromInline let lock = NSLock()
    @usableFromInline var index: [Key: Int] = [:]
    @usableFromInline var nodes: [Node] = []
    private var free: [Int] = []
    @usableFromInline var head = -1  // most recently used
    @usableFromInline var tail = -1  // least recently used

    /// The most entries kept.
    public let capacity: Int
    @usableFromInline let clock: any TokenClock

    /// Creates a cache holding at most `capacity` tokens (default 10 000).
    public init(capacity: Int = 10_000, clock: any TokenClock = SystemTokenClock()) {
        self.capacity = max(0, capacity)
        self.clock = clock
    }

    /// The number of entries (including expired ones not yet evicted).
    public var count: Int { lock.withLock { index.count } }

    /// The verified token and attached value for exactly this token string, if cached and not expired.
    @inlinable
    public func value(for token: String) -> (token: VerifiedToken, extra: Extra)? {
        let now = clock.now()
        return lock.withLock {
            guard let slot = index[Key(token: token)] else { return nil }
            let node = nodes[slot]
            guard now < node.token.expiresAt else {
                remove(slot)
                return nil
            }
            moveToFront(slot)
            return (node.token, node.extra)
        }
    }

    /// Only the attached value for exactly this token string, if cached and not expired: the hot path of a
    /// server that keeps what it needs in `Extra` (no copy of the ``VerifiedToken``).
    @inlinable
    public func extra(for token: String) -> Extra? {
        let now = clock.now()
        return lock.withLock {
            guard let slot = index[Key(token: token)] else { return nil }
            guard now < nodes[slot].token.expiresAt else {
                remove(slot)
                return nil
            }
            moveToFront(slot)
            return nodes[slot].extra
        }
    }

    /// Whether this token string is cached and not expired (no copy of anything; does not refresh its recency).
    @inlinable
    public func contains(_ token: String) -> Bool {
        let now = clock.now()
        return lock.withLock {
            guard let slot = index[Key(token: token)] else { return false }
            return now < nodes[slot].token.expiresAt
        }
    }

    /// Stores `verified` and `extra` for `token`, evicting the least recently used entry when full.
    /// Tokens already expired are not stored.
    public func insert(_ token: String, verified: VerifiedToken, extra: Extra) {
        guard capacity > 0, clock.now() < verified.expiresAt else { return }
        let key = Key(token: token)
        lock.withLock {
            if let slot = index[key] {
                nodes[slot].token = verified
                nodes[slot].extra = extra
                moveToFront(slot)
                return
            }
            if index.count >= capacity, tail >= 0 { remove(tail) }
            let node = Node(key: key, token: verified, extra: extra, prev: -1, next: head)
            let slot: Int
            if let reused = free.popLast() {
                nodes[reused] = node
                slot = reused
            } else {
                nodes.append(node)
                slot = nodes.count - 1
            }
            if head >= 0 { nodes[head].prev = slot }
            head = slot
            if tail < 0 { tail = slot }
            index[key] = slot
        }
    }

    /// Drops every entry (e.g. after a policy reload that changes what `Extra` means).
    public func removeAll() {
        lock.withLock {
            index.removeAll()
            nodes.removeAll()
            free.removeAll()
            head = -1
            tail = -1
        }
    }

    @usableFromInline func unlink(_ slot: Int) {
        let p = nodes[slot].prev
        let n = nodes[slot].next
        if p >= 0 { nodes[p].next = n } else { head = n }
        if n >= 0 { nodes[n].prev = p } else { tail = p }
        nodes[slot].prev = -1
        nodes[slot].next = -1
    }

    @usableFromInline func moveToFront(_ slot: Int) {
        guard head != slot else { return }
        unlink(slot)
        nodes[slot].next = head
        if head >= 0 { nodes[head].prev = slot }
        head = slot
        if tail < 0 { tail = slot }
    }

    @usableFromInline func remove(_ slot: Int) {
        unlink(slot)
        index[nodes[slot].key] = nil
        free.append(slot)
    }
}
