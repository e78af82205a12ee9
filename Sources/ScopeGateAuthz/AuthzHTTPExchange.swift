// One HTTP exchange of the decision service, independent of the server that carries it (``AuthzServer``).

/// A request as ``AuthzService`` reads it: the head, and the body when it is a decision request.
struct AuthzHTTPRequest: Sendable {
    /// A request head: what ``AuthzService/answerToHead(_:)`` checks before the body is read.
    struct Head: Sendable {
        /// The request method as sent, e.g. `GET`.
        var method: String
        /// The request target as sent (`/authz?x=1`).
        let target: String
        /// The target's path: everything before `?` (cut once: the handler and the service both route on it).
        let path: String
        /// Every field in arrival order, `Host` included, names as sent.
        var fields: [(String, String)]

        init(method: String, target: String, fields: [(String, String)]) {
            self.method = method
            self.target = target
            if let query = target.utf8.firstIndex(of: UInt8(ascii: "?")) {
                path = String(target[..<query])
            } else {
                path = target
            }
            self.fields = fields
        }
    }

    var head: Head
    /// The body (empty for every path but the decision path, whose body is read up to the limit).
    var body: [UInt8]
}

/// The service's answer: status, headers (`Content-Length` is the server's) and body.
struct AuthzHTTPAnswer: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
}

extension AuthzHTTPAnswer {
    /// The HTTP answer of a decision (``AuthzDecision/status``, ``AuthzDecision/headers``, ``AuthzDecision/body``).
    init(_ decision: AuthzDecision) {
        self.init(status: decision.status, headers: decision.headers, body: decision.body)
    }
}
