import Foundation
import Logging
import ScopeGate

/// Hot reload of a ``PolicyStore``: polls the modification time of every loaded file (the root and its
/// includes) and, when one changes, compares a content hash; on a real change, or on `SIGHUP`, recompiles through
/// ``PolicyStore/reload(path:)``. A policy with errors never replaces the one in force: its diagnostics are
/// logged and the last good policy stays. Reloads are counted (`scopegate_policy_reloads_total`).
///
/// Shared by the embedded adapter (`ScopeGateMCP`, which adds `init(authorizer:path:interval:)`) and the gateways.
///
/// ```swift
/// let reloader = PolicyReloader(store: store, path: "policies/climate.yaml")
/// reloader.reloadOnSIGHUP()
/// let polling = Task { await reloader.run() }                  // cancel to stop polling
/// ```
public final class PolicyReloader: Sendable {
    public let store: PolicyStore
    let path: String
    let interval: Duration
    let logger: Logger
    let metrics: ScopeGateMetrics
    let now: @Sendable () -> Date
    let onSIGHUP: @Sendable () -> Void
    private let fingerprints = LockedValue<[String: Fingerprint]>([:])
    private let hangup = LockedValue<HangupSignal?>(nil)

    struct Fingerprint: Equatable {
        /// The file the name leads to once links are followed.
        var target: String
        var modified: Date
        var size: UInt64
        var hash: UInt64
    }

    /// The policy's revision in `scopegate_policy_info`: its content hash, as a bundle's revision is by default.
    static func revision(_ snapshot: PolicySnapshot) -> String { snapshot.policy.model.contentHash }

    /// - Parameters:
    ///   - path: the root policy file the store was loaded from, or its directory (``PolicyPath``).
    ///   - interval: how often modification times are polled (default 2 s).
    ///   - metrics: where reloads go, and the series a bundle source also reports (`scopegate_policy_info`, the
    ///     last activation time, `scopegate_policy_activation_failures_total{cause="compile"}`), so the fleet's
    ///     dashboards and alerts read a file source the same way.
    ///   - now: the clock of the activation time.
    ///   - onSIGHUP: also run on `SIGHUP`, after the reload (e.g. reopen the audit log after rotation).
    public init(
        store: PolicyStore, path: String, interval: Duration = .seconds(2),
        logger: Logger = Logger(label: "scopegate.reload"), metrics: ScopeGateMetrics = .init(),
        now: @escaping @Sendable () -> Date = Date.init, onSIGHUP: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.path = path
        self.interval = interval
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.onSIGHUP = onSIGHUP
        fingerprints.withLock { $0 = Self.fingerprints(of: self.watchedFiles(), previous: [:]) }
        metrics.reloaded(swapped: true, by: 0)
        metrics.reloaded(swapped: false, by: 0)
        metrics.activationFailed(.compile, by: 0)
        metrics.policyActivated(revision: Self.revision(store.current), previous: nil, time: now())
    }

    /// The root file (a directory's `policy.yaml`, see ``PolicyPath``) and every file the policy in force loaded.
    func watchedFiles() -> [String] {
        var files = [PolicyPath.rootFile(of: path) ?? path]
        for f in store.current.policy.model.files where !files.contains(f) { files.append(f) }
        return files
    }

    /// Reloads now (`reason` is logged). Returns the store's outcome.
    @discardableResult
    public func reload(reason: String) -> ReloadOutcome {
        let previous = Self.revision(store.current)
        let outcome = store.reload(path: path)
        switch outcome {
        case .swapped(let snapshot, let warnings):
            metrics.reloaded(swapped: true)
            metrics.policyActivated(revision: Self.revision(snapshot), previous: previous, time: now())
            logger.notice(
                "policy reloaded",
                metadata: [
                    "reason": "\(reason)", "policy_version": "\(snapshot.version)",
                    "warnings": "\(warnings.count)",
                ])
        case .rejected(let diagnostics, _):
            metrics.reloaded(swapped: false)
            metrics.activationFailed(.compile)
            logger.error(
                "policy reload rejected; the previous policy stays in force",
                metadata: ["reason": "\(reason)", "policy_version": "\(store.current.version)"])
            for diagnostic in diagnostics { logger.error("\(diagnostic.description)") }
        }
        fingerprints.withLock { $0 = Self.fingerprints(of: watchedFiles(), previous: $0) }
        return outcome
    }

    /// Checks the watched files once; reloads when a content hash changed. Returns whether it reloaded.
    @discardableResult
    public func poll() -> Bool {
        let changed = filesChanged()
        if changed { reload(reason: "file changed") }
        return changed
    }

    /// Polls until the task is cancelled. The compile of a changed policy runs on ``BlockingWork``'s thread, never
    /// on the caller's (the check itself is a `stat` per file).
    public func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            if filesChanged() { _ = await BlockingWork.run { self.reload(reason: "file changed") } }
        }
    }

    /// Whether a watched file's content changed since the last check (and records what it found).
    private func filesChanged() -> Bool {
        let files = watchedFiles()
        return fingerprints.withLock { current -> Bool in
            let next = Self.fingerprints(of: files, previous: current)
            defer { current = next }
            return next.count != current.count || next.contains { current[$0.key]?.hash != $0.value.hash }
        }
    }

    /// Reloads on `SIGHUP` (the signal's default action is replaced), then runs `onSIGHUP`.
    public func reloadOnSIGHUP() {
        let handler = HangupSignal { [self] in
            reload(reason: "SIGHUP")
            onSIGHUP()
        }
        hangup.withLock {
            $0?.cancel()
            $0 = handler
        }
    }

    /// Stat every file; hash contents only when the modification time or size moved. Links are followed: a
    /// policy mounted from a Kubernetes ConfigMap is a link into a `..data` link that the kubelet re-points at each
    /// update, and the links themselves never change.
    static func fingerprints(of files: [String], previous: [String: Fingerprint]) -> [String: Fingerprint] {
        var out: [String: Fingerprint] = [:]
        for name in files {
            let file = URL(fileURLWithPath: name).resolvingSymlinksInPath().path
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                let modified = attributes[.modificationDate] as? Date
            else { continue }
            let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
            if let old = previous[name], old.target == file, old.modified == modified, old.size == size {
                out[name] = old
                continue
            }
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            let hash = FNV1a.hash(data)
            out[name] = Fingerprint(target: file, modified: modified, size: size, hash: hash)
        }
        return out
    }
}
