import NIOCore
import NIOHTTP1

/// What one client connection is doing, for its idle timeout and its graceful close: how many requests were read
/// and not yet answered, whether one is being read, and when a request part last arrived. The proxy's connection
/// handler keeps it in place of Hummingbird's connection-state handler, with the same rules, because it answers
/// some requests before Hummingbird's handlers see them.
///
/// - An idle connection (nothing being answered) is closed once no request part has arrived for `idleTimeout`;
///   a request still arriving counts as idle between its parts, so a head or body trickled in slower than that is
///   closed too. A request being answered is never cut: the clock restarts when its answer ends.
/// - On graceful shutdown an idle connection closes at once, a busy one after its last answer.
///
/// ```swift
/// var activity = ConnectionActivity(idleTimeout: .seconds(60), now: .now())
/// activity.read(.head(head), now: .now())
/// if case .close = activity.answered(now: .now()) { context.close(promise: nil) }
/// ```
struct ConnectionActivity {
    /// How long the connection may go without a request part while nothing is being answered (nil: no limit).
    let idleTimeout: TimeAmount?
    /// Requests whose head arrived and whose answer has not ended.
    private(set) var inProgress = 0
    /// Whether a request's head arrived and its end has not.
    private(set) var isReading = false
    /// When a request part last arrived, or an answer last ended.
    private(set) var lastActive: NIODeadline
    /// Whether the connection closes once its last answer ends (graceful shutdown).
    private(set) var closesAfterLastAnswer = false

    init(idleTimeout: TimeAmount?, now: NIODeadline) {
        self.idleTimeout = idleTimeout
        lastActive = now
    }

    /// A request part arrived.
    mutating func read(_ part: HTTPServerRequestPart, now: NIODeadline) {
        lastActive = now
        switch part {
        case .head:
            isReading = true
            inProgress += 1
        case .body:
            break
        case .end:
            isReading = false
        }
    }

    /// What to do once an answer has ended.
    enum AfterAnswer: Equatable {
        /// Close the connection (graceful shutdown, and this was the last answer).
        case close
        /// Nothing is being answered: check for idleness at this deadline.
        case checkIdle(at: NIODeadline)
        /// Keep going (other answers are due, or there is no idle timeout).
        case carryOn
    }

    /// An answer ended. (Never below zero: an answer to no request, a parse error's 400, changes nothing.)
    mutating func answered(now: NIODeadline) -> AfterAnswer {
        inProgress = max(0, inProgress - 1)
        guard inProgress == 0 else { return .carryOn }
        if closesAfterLastAnswer { return .close }
        lastActive = now
        return idleTimeout.map { .checkIdle(at: now + $0) } ?? .carryOn
    }

    /// What to do when an idle check comes due.
    enum AtCheck: Equatable {
        case close
        /// Not idle for long enough yet: check again then.
        case checkAgain(at: NIODeadline)
        /// Answering: the next check is set when the answer ends.
        case wait
    }

    func check(now: NIODeadline) -> AtCheck {
        guard let idleTimeout else { return .wait }
        if !isReading, inProgress > 0 { return .wait }
        let deadline = lastActive + idleTimeout
        return now >= deadline ? .close : .checkAgain(at: deadline)
    }

    /// Graceful shutdown began: true when the connection can close now; else it closes after its last answer.
    mutating func quiesce() -> Bool {
        guard inProgress > 0 else { return true }
        closesAfterLastAnswer = true
        return false
    }
}
