/// The public values of usage analysis (`scopegate suggest --from-log`): an audit log is read by
/// ``UsageAggregator`` into one ``ClientUsage`` per client, and ``LeastPrivilegeSolver/suggest(for:)`` turns
/// each into a ``UsageSuggestion``.

/// A malformed audit-log line: its 1-based number and what is wrong with it.
///
/// ```swift
/// if let problem = aggregator.add(line: text, number: 12) { print(problem) }   // "line 12: …"
/// ```
public struct UsageLineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number in the log.
    public var line: Int
    /// Lowercase message without a final period.
    public var message: String
    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }
    public var description: String { "line \(line): \(message)" }
}

/// What one client did according to an audit log: how many events, and — for the allowed calls only — the
/// distinct `required` clauses; plus every scope string it was ever granted. Argument values are never read.
///
/// ```swift
/// let usage = ClientUsage(
///     clientID: "bot", events: 3, allowed: 2, requiredClauses: [["read:files"]], granted: ["read:files"])
/// let suggestion = LeastPrivilegeSolver(policy: policy).suggest(for: usage)
/// ```
public struct ClientUsage: Sendable, Hashable {
    /// The event's `client_id`; `nil` for events without one.
    public var clientID: String?
    /// Events read for this client (allowed and denied).
    public var events: Int
    /// Allowed events.
    public var allowed: Int
    /// Distinct `required` clauses of allowed calls, each sorted by name (UTF-8 bytes); empty clauses dropped.
    public var requiredClauses: [[String]]
    /// Union of the `granted` strings of every event, sorted.
    public var granted: [String]

    public init(clientID: String?, events: Int, allowed: Int, requiredClauses: [[String]], granted: [String]) {
        self.clientID = clientID
        self.events = events
        self.allowed = allowed
        self.requiredClauses = requiredClauses
        self.granted = granted
    }
}

/// The suggestion for one client: the least-privilege set that would have allowed every observed allowed call,
/// and the granted scopes it never used.
///
/// ```swift
/// let s = LeastPrivilegeSolver(policy: policy).suggest(for: usage)
/// print(s.leastPrivilege.scopes, "unused:", s.unused)
/// ```
public struct UsageSuggestion: Sendable, Hashable {
    /// The aggregated usage this is computed from.
    public var usage: ClientUsage
    /// Least privilege over the distinct `required` clauses (each a one-clause requirement part).
    public var leastPrivilege: LeastPrivilegeResult
    /// Granted scopes (as sent) whose closure contains none of the required scopes: unused access.
    public var unused: [String]
    /// Granted strings the policy does not define (they grant nothing).
    public var unknownGranted: [String]
    /// Required scopes the policy does not define (the log came from another policy version); left out.
    public var unknownRequired: [String]
    /// Privilege of what was granted (sum of risk weights over its closure).
    public var grantedCost: Int
}
