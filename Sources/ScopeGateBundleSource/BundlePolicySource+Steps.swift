import Foundation
import ScopeGate
import ScopeGateBundles
import ScopeGateOperations
import ScopeGateTokens

/// The steps of one activation, shared by the start and the polls: fetch, open (verify), write the files out,
/// compile.
extension BundlePolicySource {
    /// What one fetch gave.
    enum Fetched {
        case bundle([UInt8], etag: String?, maxAge: Duration?)
        case notModified(maxAge: Duration?)
        case failed(BundleSourceError)
    }

    /// `GET url` (with `If-None-Match` when an `etag` is known); counts the result.
    static func fetch(
        _ configuration: BundleSourceConfiguration, etag: String?, fetcher: any HTTPFetcher, metrics: ScopeGateMetrics
    ) async -> Fetched {
        let url = configuration.url
        var headers = ["Accept": "application/x-tar, application/octet-stream"]
        if let etag { headers["If-None-Match"] = etag }
        let request = HTTPRequest(url: url, headers: headers, maxResponseBytes: configuration.limits.maxArchiveBytes)
        let response: HTTPResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            metrics.bundleFetched(.error)
            return .failed(BundleSourceError(.fetchFailed, "cannot fetch `\(url.absoluteString)`: \(error)"))
        }
        let maxAge = BundlePollSchedule.maxAge(cacheControl: response.value(forHeader: "Cache-Control"))
        switch response.status {
        case 200:
            metrics.bundleFetched(.ok)
            return .bundle(response.body, etag: response.value(forHeader: "ETag"), maxAge: maxAge)
        case 304:
            metrics.bundleFetched(.notModified)
            return .notModified(maxAge: maxAge)
        default:
            metrics.bundleFetched(.error)
            return .failed(
                BundleSourceError(.fetchFailed, "`\(url.absoluteString)` answered HTTP \(response.status)"))
        }
    }

    /// Opens `bytes` as a bundle, checking its signature with the configured key and every file's hash.
    static func open(_ bytes: [UInt8], configuration: BundleSourceConfiguration) throws(BundleSourceError)
        -> PolicyBundle
    {
        do {
            return try PolicyBundle.open(bytes, key: configuration.key, limits: configuration.limits)
        } catch {
            throw BundleSourceError(.verificationFailed, "the bundle is refused: \(error.description)")
        }
    }

    /// A new directory for one source's revisions, under the temporary directory (not the cache directory: a
    /// cache that cannot be written must not stop a good bundle from being put in force).
    static func newExtractionBase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("scopegate-bundle-\(UUID().uuidString)").path
    }

    /// Writes the bundle's files to `base/policy-REVISION/` (replacing what a previous attempt left there),
    /// runs `body` with the root policy file's path, and keeps the directory when `body` says the policy is in
    /// force (then every other `policy-*` directory is removed), else removes it. The files stay so that the rule
    /// locations in decisions and audit events (`…/policy-r42/policy.yaml:12:3`) name the revision and files one
    /// can open.
    static func withExtracted<R>(
        _ bundle: PolicyBundle, base: String, _ body: (String) -> (R, inForce: Bool)
    ) throws(BundleSourceError) -> R {
        let manager = FileManager.default
        let name =
            "policy-"
            + String(bundle.revision.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "_" }.prefix(64))
        let directory = (base as NSString).appendingPathComponent(name)
        try? manager.removeItem(atPath: directory)
        let root: String
        do {
            root = try bundle.extract(to: directory)
        } catch {
            try? manager.removeItem(atPath: directory)
            throw BundleSourceError(
                .extractFailed, "cannot write out revision `\(bundle.revision)`: \(error.description)")
        }
        let (result, inForce) = body(root)
        if inForce {
            for other in (try? manager.contentsOfDirectory(atPath: base)) ?? []
            where other.hasPrefix("policy-") && other != name {
                try? manager.removeItem(atPath: (base as NSString).appendingPathComponent(other))
            }
        } else {
            try? manager.removeItem(atPath: directory)
        }
        return result
    }

    /// Opens and compiles `bytes` (the start, where no store exists yet).
    static func compile(
        _ bytes: [UInt8], configuration: BundleSourceConfiguration, base: String, compiler: PolicyCompiler
    ) throws(BundleSourceError) -> (PolicyBundle, CompiledPolicy) {
        let bundle = try open(bytes, configuration: configuration)
        let result = try withExtracted(bundle, base: base) { root in
            let result = compiler.compile(path: root)
            return (result, result.model != nil)
        }
        guard let model = result.model else {
            let first = result.diagnostics.first { $0.severity == .error }.map { "; first: \($0.description)" } ?? ""
            throw BundleSourceError(
                .compileFailed,
                "revision `\(bundle.revision)` has \(result.diagnostics.count(.error)) policy error(s)\(first)")
        }
        return (bundle, CompiledPolicy(model: model))
    }
}

extension BundleSourceError {
    /// The `cause` label this failure counts under.
    var cause: ScopeGateMetrics.ActivationFailure {
        switch code {
        case .verificationFailed: .verify
        case .extractFailed: .extract
        case .compileFailed: .compile
        case .cacheUnwritable: .persist
        default: .fetch
        }
    }
}
