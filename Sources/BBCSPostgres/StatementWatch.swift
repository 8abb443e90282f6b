import Foundation
import NIOConcurrencyHelpers

/// One request's use of a pooled connection, as seen from outside the thread that runs it: at
/// the request's deadline (or at shutdown) the statement running is cancelled with
/// `PQcancel`, and when that gets no answer in `grace` (a frozen server) the connection is
/// abandoned (its socket shut down) so the thread comes back. A connection either touched is
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
            return true
        }
    }

    /// The statement is over: nothing can reach its connection any more. What happened to it meanwhile.
    func detach() -> Outcome {
        state.withLockedValue { state in
            state.connection = nil
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
        let connection = state.withLockedValue { state -> PGConnection? in
            guard let connection = state.connection else { return nil }
            state.outcome = .abandoned(reason)
            return connection
        }
        connection?.abandon()
    }

    private static func reserveCancel() -> Bool {
        pendingCancels.withLockedValue { pending in
            guard pending < maxPendingCancels else { return false }
            pending += 1
            return true
        }
    }
}
