// The reloader lives in ScopeGateOperations (one for the embedded adapter and the gateways); servers that import
// ScopeGateMCP keep using it, and the rest of the operations API, without another import.
@_exported import ScopeGateOperations

extension PolicyReloader {
    /// Hot reload of the policy behind `authorizer` (its store, logger and metrics).
    ///
    /// ```swift
    /// let reloader = PolicyReloader(authorizer: authorizer, path: "policies/climate.yaml")
    /// reloader.reloadOnSIGHUP()
    /// let polling = Task { await reloader.run() }                  // cancel to stop polling
    /// ```
    ///
    /// - Parameters:
    ///   - path: the root policy file the authorizer's store was loaded from.
    ///   - interval: how often modification times are polled (default 2 s).
    public convenience init(authorizer: MCPAuthorizer, path: String, interval: Duration = .seconds(2)) {
        self.init(
            store: authorizer.store, path: path, interval: interval, logger: authorizer.configuration.logger,
            metrics: authorizer.metrics)
    }
}
