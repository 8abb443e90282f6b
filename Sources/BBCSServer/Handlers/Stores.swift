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
    /// The report's replies, kept while the database is unchanged.
    let reportCache: ReportCache
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
        reportCache = ReportCache(builder: reports)
        self.scheduler = scheduler
        self.figureGraceDays = figureGraceDays
    }
}
