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
    /// The change sequence as this daemon has applied it: a write calls `catchUp(through:)`
    /// with its seq so the next read sees it.
    let changes: ChangeStream
    /// The connections watching changes (watch.subscribe).
    let watch: WatchHub
    /// Read at each request, so a reload applies at once.
    let figureGraceDays: @Sendable () -> Int

    init(pool: PGPool, scheduler: Scheduler, changes: ChangeStream, watch: WatchHub, figureGraceDays: @escaping @Sendable () -> Int) {
        self.pool = pool
        reader = PlanReader(pool: pool)
        figures = FigureStore(pool: pool, graceDays: figureGraceDays)
        tasks = TaskStore(pool: pool)
        reminders = ReminderStore(pool: pool)
        directory = Directory(pool: pool)
        audit = AuditLog(pool: pool)
        reports = ReportBuilder(pool: pool)
        self.scheduler = scheduler
        self.changes = changes
        self.watch = watch
        self.figureGraceDays = figureGraceDays
    }
}
