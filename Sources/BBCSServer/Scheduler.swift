import BBCSCore
import BBCSPostgres
import Foundation
import Logging
import Synchronization

/// The reminder scheduler: on a timer and on demand, records the reminders due today
/// (exactly once each, whatever runs it how often) and wakes the delivery worker, which
/// mails them apart: a relay that hangs never delays a run.
public struct Scheduler: Sendable {
    let store: ReminderStore
    let settings: @Sendable () -> (reminders: ReminderSettings, mail: MailSettings?)
    let clock: @Sendable () -> Date
    let logger: Logger
    /// Who mails the reminders recorded; nil where nothing is mailed (a table that only decodes).
    let delivery: MailDelivery?
    let metrics: DaemonMetrics
    /// Where the periodic runs stand, for the health check.
    let progress = SchedulerProgress()

    public init(pool: PGPool, settings: @escaping @Sendable () -> (reminders: ReminderSettings, mail: MailSettings?),
                clock: @escaping @Sendable () -> Date, logger: Logger, delivery: MailDelivery? = nil,
                metrics: DaemonMetrics = DaemonMetrics()) {
        self.store = ReminderStore(pool: pool)
        self.settings = settings
        self.clock = clock
        self.logger = logger
        self.delivery = delivery
        self.metrics = metrics
    }

    public struct Outcome: Sendable {
        public var day: CalendarDate
        public var created: Int
        /// Reminders whose mail is still to go, by any daemon, once this run recorded its own.
        public var mailWaiting: Int
        /// What this daemon's delivery worker has delivered, and seen fail, since it started.
        public var mailed: Int
        public var mailFailed: Int
    }

    /// One run, as `principal` (the daemon itself on the timer, an administrator on demand).
    public func run(as principal: Principal) async throws -> Outcome {
        let (reminders, mail) = settings()
        let actor = Actor(principal: principal, method: "scheduler.run", access: .admin, at: clock())
        let started = ContinuousClock.now
        var created = 0
        // Failed runs are timed too.
        defer { metrics.schedulerRan(for: .now - started, created: created) }
        created = try await store.generate(settings: reminders, mail: mail != nil, by: actor)
        delivery?.wake()
        let waiting = try await store.mailWaiting()
        delivery?.noteWaiting(waiting)
        let totals = delivery?.totals ?? MailDelivery.Totals()
        logger.log(level: created > 0 ? .info : .debug, "scheduler ran", metadata: [
            "day": "\(actor.today)", "created": "\(created)", "mail_waiting": "\(waiting)"])
        return Outcome(day: actor.today, created: created, mailWaiting: waiting, mailed: totals.delivered, mailFailed: totals.failed)
    }

    /// The longest one periodic run may take.
    static let runBudget: Duration = .seconds(300)

    /// Runs every `interval` until cancelled; a failed run is logged and the next one tries again.
    public func runPeriodically(every interval: @escaping @Sendable () -> Duration, as principal: Principal) async {
        progress.due(at: .now)
        while !Task.isCancelled {
            // Each statement is bounded by the session's statement_timeout; the deadline also
            // cuts a run off on a server that stopped answering, which no timeout of its own
            // can, so the reserved connection comes back.
            let deadline = RequestDeadline(budget: Self.runBudget, mayWrite: true)
            do { _ = try await RequestDeadline.$current.withValue(deadline) { try await run(as: principal) } } catch is CancellationError { return } catch {
                logger.error("scheduler run failed", metadata: ["error": "\(error)"])
            }
            let pause = interval()
            progress.due(at: .now + pause)
            do { try await Task.sleep(for: pause) } catch { return }
        }
    }
}

/// When the scheduler's next periodic run is due: how late it is tells a scheduler that keeps
/// up from one whose run has not come back.
final class SchedulerProgress: Sendable {
    private let next = Mutex<ContinuousClock.Instant?>(nil)

    func due(at instant: ContinuousClock.Instant) { next.withLock { $0 = instant } }

    /// How far past its due time the next run is (zero when not yet due); nil before the periodic runs start.
    func late(now: ContinuousClock.Instant = .now) -> Duration? {
        next.withLock { $0 }.map { max(.zero, now - $0) }
    }
}
