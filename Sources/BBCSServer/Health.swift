import BBCSPostgres
import BBCSProtocol
import Foundation

/// The daemon's health judged from what its parts report: a pure function of its inputs, so
/// every rule is tested without a database.
struct Health: Sendable, Equatable {
    var status: HealthStatus
    /// One sentence per problem, worst first.
    var reasons: [String]
    /// False when a part the daemon cannot recover by itself has stopped moving (the event
    /// loop, the pool, the scheduler): the systemd watchdog then goes unpinged, and systemd
    /// restarts the daemon. An unreachable database is failing but not this: a restart
    /// would not bring it back.
    var progressing: Bool

    /// What the parts report at one moment.
    struct Inputs: Sendable {
        var now: Date
        var database: DatabaseProbe.Reading
        var pool: PGPool.Usage
        /// How far the scheduler is behind its next run; nil before it first runs.
        var schedulerLate: Duration?
        var mailPending: Int
        /// Why the delivery worker's last attempt failed, when it did.
        var lastMailFailure: String?
        /// How long the event loops have not answered, when they have not within `eventLoopSilence`.
        var eventLoopSilentFor: Duration?
    }

    /// How late the scheduler may be before it counts as behind (a run that takes a while).
    static let schedulerSlack: Duration = .seconds(60)
    /// How late it may be before it counts as stuck: its runs are cut off at their budget.
    static let schedulerStuck = Scheduler.runBudget + schedulerSlack
    /// How long callers may queue for a connection before the pool counts as exhausted.
    static let poolQueueing: Duration = .seconds(1)

    init(_ inputs: Inputs) {
        var failing: [String] = [], degraded: [String] = []
        var progressing = true
        if let silent = inputs.eventLoopSilentFor {
            failing.append("the event loop has not answered for \(Self.seconds(silent))")
            progressing = false
        }
        if !inputs.database.reachable {
            let since = inputs.database.unreachableSince ?? inputs.now
            failing.append("database unreachable since \(Self.time(since)) (\(Self.seconds(inputs.now.timeIntervalSince(since))))"
                           + (inputs.database.error.map { ": \($0)" } ?? ""))
        }
        if let stalled = inputs.pool.stalledFor {
            failing.append("pool wedged: no database connection has come back for \(Self.seconds(stalled)) while requests were turned away")
            progressing = false
        } else if let wait = inputs.pool.longestWait, wait > Self.poolQueueing {
            degraded.append("pool exhausted for \(Self.seconds(wait)): \(inputs.pool.waiters) waiting for the \(inputs.pool.size) connections")
        }
        if let late = inputs.schedulerLate, late > Self.schedulerSlack {
            if late > Self.schedulerStuck {
                failing.append("scheduler late by \(Self.seconds(late)): its run has not finished")
                progressing = false
            } else {
                degraded.append("scheduler late by \(Self.seconds(late))")
            }
        }
        if inputs.mailPending > 0, let failure = inputs.lastMailFailure {
            degraded.append("mail backlog: \(inputs.mailPending) reminder\(inputs.mailPending == 1 ? "" : "s") waiting; the last attempt failed: \(failure)")
        }
        status = !failing.isEmpty ? .failing : !degraded.isEmpty ? .degraded : .ok
        reasons = failing + degraded
        self.progressing = progressing
    }

    /// "ok", or the status and its reasons, on one line.
    var line: String { reasons.isEmpty ? status.rawValue : "\(status.rawValue): " + reasons.joined(separator: "; ") }

    var response: HealthRequest.Response { .init(status: status, reasons: reasons, line: line) }

    static func seconds(_ duration: Duration) -> String { seconds(duration.timeInterval) }
    static func seconds(_ interval: TimeInterval) -> String { "\(Int(interval.rounded(.down)))s" }
    static func time(_ date: Date) -> String { date.formatted(.iso8601) }
}
