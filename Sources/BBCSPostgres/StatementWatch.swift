import Foundation
import NIOConcurrencyHelpers

/// One request's use of a pooled connection, as seen from outside the thread that runs it: at
/// the request's deadline (or at shutdown) the statement running is cancelled with
/// `PQcancel`, and when that gets no answer in `grace` (a frozen server) the connection is
/// abandoned (its socket shut down) so the thread comes back. A connection touched by either is
/// never reused: a cancel that lands late could hit the next caller's statement.
public final class StatementWatch: Sendable {
    enum Reason: Sendable, Equatable {
        case deadline
        case shutdown
    }

    /// What became of the use when it ended.
    enum Outcome: Sendable, Equatable {
        /// Nothing reached it: the connection is as good as the statement left it.
        case untouched
        /// A cancel was sent; the statement may have finished first.
        case cancelled(Reason)
        /// The connection was cut from under the statement.
        case abandoned(Reason)
    }

    private struct State {
        /// The connection the statement runs on, while it runs.
        var connection: PGConnection?
        /// A duplicate of its socket, taken at attach: libpq may close its own descriptor on
        /// an error, and the number be reused by another connection before an abandon reads it.
        var socket: Int32 = -1
        var outcome = Outcome.untouched
    }

    private let state = NIOLockedValueBox(State())
    /// How long a cancel may go unanswered before the connection is abandoned.
    public static let grace: Duration = .seconds(1)
    /// Cancel requests sent and not yet taken by a postmaster: each blocks a thread of its
    /// own, so a frozen server is sent a bounded number; beyond it connections are abandoned
    /// at once.
    private static let pendingCancels = NIOLockedValueBox(0)
    private static let maxPendingCancels = 64

    /// The connection the statement runs on, from now until `detach()`; false when the watch
    /// was stopped already, and the statement must not start.
    func attach(_ connection: PGConnection) -> Bool {
        state.withLockedValue { state in
            guard state.outcome == .untouched else { return false }
            state.connection = connection
            state.socket = connection.duplicateSocket()
            return true
        }
    }

    /// The statement is over: nothing can reach its connection any more. What happened to it meanwhile.
    func detach() -> Outcome {
        state.withLockedValue { state in
            state.connection = nil
            if state.socket >= 0 { close(state.socket) }
            state.socket = -1
            return state.outcome
        }
    }

    /// Cancels the statement running, then abandons the connection if the cancel is not
    /// answered within `grace`. Called on a timer, never on a pool thread.
    func stop(_ reason: Reason) async {
        let canceller = state.withLockedValue { state -> PGCanceller?? in
            guard state.outcome == .untouched else { return .none }
            state.outcome = .cancelled(reason)
            return .some(state.connection?.canceller)
        }
        guard case .some(let canceller) = canceller else { return }
        if let canceller, Self.reserveCancel() {
            let thread = Thread {
                _ = canceller.cancel()
                Self.pendingCancels.withLockedValue { $0 -= 1 }
            }
            thread.name = "bbcs-pg-cancel"
            thread.start()
            try? await Task.sleep(for: Self.grace)
        }
        state.withLockedValue { state in
            guard state.connection != nil else { return }
            state.outcome = .abandoned(reason)
            // Shut down, not closed: the thread blocked on the socket wakes with it broken, and
            // the descriptor stays the pool thread's (and ours until detach) to close.
            if state.socket >= 0 { _ = shutdown(state.socket, Int32(SHUT_RDWR)) }
        }
    }

    private static func reserveCancel() -> Bool {
        pendingCancels.withLockedValue { pending in
            guard pending < maxPendingCancels else { return false }
            pending += 1
            return true
        }
    }
}

extension StatementWatch {
    /// A statement the watch stopped, with the error its caller is to be answered.
    struct Stopped: Error {
        let error: any Error
    }

    /// Runs `body` (statements on `connection`) under the watch, with `timeouts` in force.
    /// Returns its value and whether the connection is fit for the next caller (nothing reached
    /// it). When the watch stopped a statement that then failed, throws `Stopped`: nothing
    /// written, unless the connection was abandoned while a statement that may commit was in
    /// flight (`PGError.outcomeUnknown`).
    func run<T>(on connection: PGConnection, timeouts: SessionTimeouts?, deadline: RequestDeadline?,
                _ body: () throws -> T) throws -> (value: T, fit: Bool) {
        guard attach(connection) else { throw Stopped(error: PGError.timedOut("the request's time ran out before its statement started")) }
        do {
            try connection.apply(timeouts)
            let value = try body()
            return (value, detach() == .untouched)
        } catch {
            let outcome = detach()
            guard outcome == .untouched else {
                throw Stopped(error: Self.stopped(error, outcome,
                                                  mayHaveCommitted: connection.lastStatementMayCommit && deadline?.mayWrite != false))
            }
            throw error
        }
    }

    /// The error of a statement the watch stopped: nothing written, unless its connection was
    /// abandoned while a statement that may commit was in flight.
    private static func stopped(_ error: any Error, _ outcome: Outcome, mayHaveCommitted: Bool) -> any Error {
        let why: (Reason) -> String = { $0 == .shutdown ? PGPool.cancelledAtShutdown : "cancelled at the request's deadline" }
        switch outcome {
        case .untouched:
            return error
        case .abandoned(let reason):
            if mayHaveCommitted {
                return PGError.outcomeUnknown("the server did not answer a cancel; the connection was abandoned while a write may have been committing")
            }
            return PGError.timedOut(why(reason) + "; the server did not answer the cancel")
        case .cancelled(let reason):
            // A statement that finished otherwise (a conflict, a broken connection) says so itself.
            guard case PGError.timedOut = error else { return error }
            return PGError.timedOut(why(reason))
        }
    }
}
