import Crypto
import Foundation
import Logging
import ScopeGate
import ScopeGateBundleSource
import ScopeGateBundles
import ScopeGateOperations
import ScopeGateTokens

/// A bundle server in memory: serves the published bytes with an `ETag` (a counter) and an optional
/// `Cache-Control`, answers 304 to a matching `If-None-Match`, and can be taken down (every fetch throws).
final class FakeBundleServer: HTTPFetcher {
    struct State {
        var bytes: [UInt8]?
        var etag = 0
        var down = false
        var status: Int?
        var cacheControl: String?
        var requests: [HTTPRequest] = []
    }
    struct Down: Error {}

    let state = LockedValue(State())

    func publish(_ bytes: [UInt8]) {
        state.withLock {
            $0.bytes = bytes
            $0.etag += 1
        }
    }

    func set(_ change: (inout State) -> Void) { state.withLock(change) }
    var requests: [HTTPRequest] { state.withLock { $0.requests } }

    func fetch(_ request: HTTPRequest) async throws -> HTTPResponse {
        try state.withLock { state in
            state.requests.append(request)
            if state.down { throw Down() }
            if let status = state.status { return HTTPResponse(status: status, body: []) }
            guard let bytes = state.bytes else { return HTTPResponse(status: 404, body: []) }
            var headers = ["ETag": "\"\(state.etag)\""]
            if let cacheControl = state.cacheControl { headers["Cache-Control"] = cacheControl }
            if request.headers["If-None-Match"] == "\"\(state.etag)\"" {
                return HTTPResponse(status: 304, headers: headers, body: [])
            }
            return HTTPResponse(status: 200, headers: headers, body: bytes)
        }
    }
}

/// A clock that never waits: `sleep` records the duration, advances `now` by it and returns; after `limit`
/// sleeps it throws `CancellationError` (so `run()` ends). `draw` returns the scripted draws in turn (then 0.5).
final class FakeClock: BundleSourceClock {
    struct State {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        var sleeps: [Duration] = []
        var limit = Int.max
        var draws: [Double] = []
    }
    let state = LockedValue(State())

    init(limit: Int = .max, draws: [Double] = []) {
        state.withLock {
            $0.limit = limit
            $0.draws = draws
        }
    }

    var sleeps: [Duration] { state.withLock { $0.sleeps } }
    func now() -> Date { state.withLock { $0.now } }
    func sleep(for duration: Duration) async throws {
        try state.withLock { state in
            guard state.sleeps.count < state.limit else { throw CancellationError() }
            state.sleeps.append(duration)
            state.now += Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
    }
    func draw() -> Double {
        state.withLock { $0.draws.isEmpty ? 0.5 : $0.draws.removeFirst() }
    }
}

/// Signed bundles of a small policy whose revision `k` decides differently: `probe` needs `a` in even
/// revisions and `b` in odd ones, and a tool named `rev_k` exists only in revision `k`.
enum Bundles {
    static let key = Curve25519.Signing.PrivateKey()
    static let otherKey = Curve25519.Signing.PrivateKey()
    static var verification: BundleVerificationKey { BundleVerificationKey(key.publicKey) }

    static func source(_ k: Int) -> String {
        """
        version: 1
        scopes:
          a: {}
          b: {}
        tools:
          probe: \(k % 2 == 0 ? "a" : "b")
          rev_\(k): a
        """
    }

    /// Revision `r<k>`, signed with `signer` (default: ``key``; nil: unsigned).
    static func bundle(_ k: Int, signer: Curve25519.Signing.PrivateKey? = key) throws -> [UInt8] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("policy.yaml").path
        try source(k).write(toFile: path, atomically: true, encoding: .utf8)
        var bundle = try PolicyBundle.build(
            policy: [path], revision: "r\(k)", now: Date(timeIntervalSince1970: 1_800_000_000 + Double(k)))
        if let signer { bundle = try bundle.signed(with: BundleSigningKey(signer), keyID: "test") }
        return bundle.archive()
    }

    /// `bytes` with one byte of the policy text changed (the archive stays well-formed; the file's hash breaks).
    static func tampered(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        let needle = Array("probe:".utf8)
        if let at = (0...(out.count - needle.count)).first(where: { Array(out[$0..<$0 + needle.count]) == needle }) {
            out[at] = UInt8(ascii: "P")
        }
        return out
    }

    /// The revision number a compiled policy was built from (its `rev_k` tool).
    static func revision(of policy: CompiledPolicy) -> Int {
        for tool in policy.model.tools.map(\.pattern) where tool.hasPrefix("rev_") {
            if let k = Int(tool.dropFirst(4)) { return k }
        }
        return -1
    }
}

func temporaryDirectory() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("sg-bundle-cache-\(UUID().uuidString)").path
}

/// The value of one sample `name{labels}` of an exposition (nil when absent).
func sample(_ exposition: String, _ series: String) -> Double? {
    for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1))
    }
    return nil
}

extension PrometheusMetrics {
    var text: String { String(decoding: exposition(), as: UTF8.self) }
}

/// A logger for tests: activations and refusals are asserted through metrics, not printed.
let quietLogger: Logger = {
    var logger = Logger(label: "scopegate.bundle.test")
    logger.logLevel = .critical
    return logger
}()
