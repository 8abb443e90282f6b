import BBCSCore
import BBCSPostgres

/// What the handlers work with: the stores over the daemon's pool, the scheduler, and the
/// live settings they read at each request.
struct Stores: Sendable {
    let pool: PGPool
    let reader: PlanReader
    let figures: FigureStore
    let tasks: TaskStore
    let reminders: ReminderStore
    let directory: Directory
    let audit: AuditLog
    let reports: ReportBuilder
    let scheduler: Scheduler
    /// Read at each request, so a reload applies at once.
    let figureGraceDays: @Sendable () -> Int

    init(pool: PGPool, scheduler: Scheduler, figureGraceDays: @escaping @Sendable () -> Int) {
        self.pool = pool
        reader = PlanReader(pool: pool)
        figures = FigureStore(pool: pool, graceDays: figureGraceDays)
        tasks = TaskStore(pool: pool)
        reminders = ReminderStore(pool: pool)
        directory = Directory(pool: pool)
        audit = AuditLog(pool: pool)
        reports = ReportBuilder(pool: pool)
        self.scheduler = scheduler
        self.figureGraceDays = figureGraceDays
    }
}

extension Stores {
    // until PlanMemory: the integrator replaces these two with `memory.indicator(code)` and
    // `memory.task(code)`; the writes reload from the database themselves when a guard fails.
    /// The indicator a change decides from.
    func indicatorState(_ code: String) async throws -> IndicatorState { try await figures.state(of: code) }
    /// The task a change decides from.
    func taskState(_ code: String) async throws -> TaskState { try await tasks.state(of: code) }

    /// Returns once this daemon's reads see every change up to `seq` (its own write).
    func caughtUp(through seq: Int64) async throws {
        // ChangeStream.catchUp(through: seq): wire the feed helper's stream here.
        _ = seq
    }
}
