import BBCSCore
import BBCSPostgres
import NIOConcurrencyHelpers
import Logging

/// What the handlers work with: the stores over the daemon's pool, the scheduler, and the
/// live settings they read at each request.
struct Stores: Sendable {
    let pool: PGPool
    let reader: PlanReader
    let figures: FigureStore
    let tasks: TaskStore
    let reminders: ReminderStore
    let directory: Directory
    let rounds: RoundStore
    let published: PublishedReportStore
    let audit: AuditLog
    /// The report's replies, built from memory and kept while it is unchanged.
    let reportCache: ReportCache
    let scheduler: Scheduler
    /// The plan in memory: what the reads answer from.
    let memory: PlanMemory
    /// The change sequence as this daemon has applied it: a write calls `catchUp(through:)`
    /// with its seq so the next read sees it.
    let changes: ChangeStream
    /// The connections watching changes (watch.subscribe).
    let watch: WatchHub
    /// Read at each request, so a reload applies at once.
    let figureGraceDays: @Sendable () -> Int
    let riskMatrix: @Sendable () -> RiskMatrix
    /// The plan a request naming none is of, when the database holds several (`default_plan`).
    let defaultPlan: @Sendable () -> String?
    let riskReviews: RiskReviewStore
    /// The daemon's health and metrics (system.health, system.metrics).
    let monitor: DaemonMonitor
    /// The public site (site.build).
    let site: SiteKeeper

    init(pool: PGPool, scheduler: Scheduler, memory: PlanMemory, changes: ChangeStream, watch: WatchHub, monitor: DaemonMonitor, site: SiteKeeper,
         figureGraceDays: @escaping @Sendable () -> Int, riskMatrix: @escaping @Sendable () -> RiskMatrix = { .standard },
         defaultPlan: @escaping @Sendable () -> String? = { nil }) {
        self.pool = pool
        self.monitor = monitor
        self.site = site
        reader = PlanReader(pool: pool)
        figures = FigureStore(pool: pool, graceDays: figureGraceDays)
        tasks = TaskStore(pool: pool)
        reminders = ReminderStore(pool: pool)
        directory = Directory(pool: pool)
        rounds = RoundStore(pool: pool)
        published = PublishedReportStore(pool: pool)
        audit = AuditLog(pool: pool)
        reportCache = ReportCache(memory: memory)
        self.scheduler = scheduler
        self.memory = memory
        self.changes = changes
        self.watch = watch
        self.figureGraceDays = figureGraceDays
        self.riskMatrix = riskMatrix
        self.defaultPlan = defaultPlan
        riskReviews = RiskReviewStore(pool: pool)
    }
}

extension Stores {
    /// The indicator a change decides from, as memory holds it; the write's guard in SQL has
    /// the last word, and a failed guard reads the database again.
    func indicatorState(_ code: String) throws -> IndicatorState { try memory.indicator(code) }
    /// The task a change decides from, as memory holds it.
    func taskState(_ code: String) throws -> TaskState { try memory.task(code) }

    /// The plan a request is of: the one it names, or `default_plan`, or the only one.
    func plan(_ code: String?) throws -> PlanOutline { try memory.plans.choose(code, default: defaultPlan()) }

    /// The plan a list is of, as `plan`; nil before any plan is imported, when a list is empty.
    func listedPlan(_ code: String?) throws -> PlanOutline? {
        code == nil && memory.plans.plans.isEmpty ? nil : try plan(code)
    }

    /// Returns once this daemon's reads see every change up to `seq` (its own write); within
    /// a request, throws `PGError.timedOut` at its deadline if memory has not caught up by then
    /// (the catch-up goes on, and the stored change is answered all the same by the callers).
    func caughtUp(through seq: Int64) async throws {
        let changes = self.changes
        guard let deadline = RequestDeadline.current else { return try await changes.catchUp(through: seq) }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let waiting = NIOLockedValueBox<CheckedContinuation<Void, any Error>?>(continuation)
            let take: @Sendable () -> CheckedContinuation<Void, any Error>? = {
                waiting.withLockedValue { pending in defer { pending = nil }; return pending }
            }
            let timer = Task {
                guard (try? await Task.sleep(until: deadline.instant, clock: .continuous)) != nil else { return }
                take()?.resume(throwing: PGError.timedOut("memory did not catch up with change \(seq) by the request's deadline"))
            }
            Task {
                do {
                    try await changes.catchUp(through: seq)
                    take()?.resume()
                } catch {
                    take()?.resume(throwing: error)
                }
                timer.cancel()
            }
        }
    }

    /// `body`'s answer once this daemon's reads see every change the database holds: for the
    /// rare writes (users, posts, holdings, imports) that do not return their seq.
    func caughtUp<T: Sendable>(after body: () async throws -> T) async throws -> T {
        let answer = try await body()
        // The change is stored: its answer stands even if memory cannot catch up now (an error
        // here would tell the client it was not), as `decideAndWrite`'s does.
        do {
            try await caughtUp(through: try await pool.withConnection { try ChangeLog.latest($0) })
        } catch {
            Logger(label: "bbcsd").warning("a change was stored but memory did not catch up", metadata: ["error": "\(error)"])
        }
        return answer
    }
}
