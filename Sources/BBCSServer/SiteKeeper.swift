import BBCSCore
import BBCSPostgres
import BBCSReport
import Foundation
import Logging
import NIOPosix
import Synchronization

/// Keeps the public site in `site_dir` current: builds it from memory (and the frozen
/// reports, read once each) at start, a few seconds after changes stop coming, every hour
/// (what is overdue moves with the day) and on demand (`site.build`), each time into a new
/// folder swapped in whole (`SiteFolder`).
final class SiteKeeper: Sendable {
    struct Settings: Sendable, Equatable {
        /// Where the site is kept; nil: nowhere (`site.build` can still return its files).
        var directory: String?
        var showUnvalidated = false
    }

    /// What one build made.
    struct Build: Sendable {
        var files: [String: String]
        var pages: Int { files.keys.filter { $0.hasSuffix(".html") }.count }
        var bytes: Int { files.values.reduce(0) { $0 + $1.utf8.count } }
    }

    private let memory: PlanMemory
    private let published: PublishedReportStore
    private let settings: @Sendable () -> Settings
    private let clock: @Sendable () -> Date
    private let graceDays: @Sendable () -> Int
    private let logger: Logger
    /// Frozen reports by number: they never change once published.
    private let frozen = Mutex<[String: String]>([:])
    /// One build at a time, so a slower one never swaps in after a newer one.
    private let turnstile = Turnstile()
    private let wakes: AsyncStream<Void>
    private let doorbell: AsyncStream<Void>.Continuation

    /// How long after a change the site waits for more before it is built.
    static let debounce: Duration = .seconds(2)

    init(memory: PlanMemory, pool: PGPool, settings: @escaping @Sendable () -> Settings, clock: @escaping @Sendable () -> Date,
         graceDays: @escaping @Sendable () -> Int, logger: Logger) {
        self.memory = memory
        self.published = PublishedReportStore(pool: pool)
        self.settings = settings
        self.clock = clock
        self.graceDays = graceDays
        self.logger = logger
        (wakes, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Where the site is kept, as the settings now say.
    var directory: String? { settings().directory }

    /// Something the site shows may have changed.
    func changed() { doorbell.yield() }

    /// Builds at start, then after changes (debounced) and every hour, until cancelled.
    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [doorbell] in
                while !Task.isCancelled {
                    doorbell.yield()
                    try? await Task.sleep(for: .seconds(3600))
                }
            }
            for await _ in wakes {
                guard !Task.isCancelled else { break }
                guard let directory = settings().directory else { continue }
                do {
                    let started = ContinuousClock.now
                    let build = try await write(to: directory)
                    logger.info("site built", metadata: ["dir": "\(directory)", "pages": "\(build.pages)", "files": "\(build.files.count)",
                                                         "elapsed": "\(ContinuousClock.now - started)"])
                } catch {
                    logger.error("site not built; the previous one stays", metadata: ["dir": "\(directory)", "error": "\(error)"])
                }
                // Changes that come meanwhile ring once more: they are in the next build.
                try? await Task.sleep(for: Self.debounce)
            }
            group.cancelAll()
        }
    }

    /// The site's files as of now.
    func build() async throws -> Build {
        let today = CalendarDate(clock()), settings = settings()
        // The latest quarter that has ended: what the live position reports.
        let period = Period.containing(today, quarterly: true).previous
        var plans: [SitePlan] = []
        for inputs in memory.corporateInputs() {
            let id = inputs.plan.id
            var reports: [(publication: Publication, html: String)] = []
            for publication in inputs.cycle.published where publication.plan == inputs.plan.code {
                reports.append((publication, try await frozenHTML(publication.number)))
            }
            plans.append(SitePlan(plan: inputs.plan, live: try inputs.report(period: period, objective: nil, today: today, graceDays: graceDays()),
                                  indicators: inputs.indicators.filter { $0.planID == id && !$0.isRetired },
                                  tasks: inputs.tasks.filter { $0.planID == id && !$0.isRetired }, published: reports))
        }
        let site = PublicSite(plans: plans, builtAt: clock().formatted(.iso8601), showUnvalidated: settings.showUnvalidated)
        return Build(files: site.files())
    }

    /// Builds the site and swaps it into `directory`.
    @discardableResult
    func write(to directory: String) async throws -> Build {
        var result: Result<Build, any Error> = .failure(CancellationError())
        await turnstile.run {
            do {
                let build = try await self.build()
                // Hundreds of blocking writes: on NIO's blocking pool, never Swift's cooperative threads.
                try await NIOThreadPool.singleton.runIfActive { try SiteFolder(path: directory).replace(with: build.files) }
                result = .success(build)
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    private func frozenHTML(_ number: String) async throws -> String {
        if let html = frozen.withLock({ $0[number] }) { return html }
        let html = try await published.documents(number: number).html
        frozen.withLock { $0[number] = html }
        return html
    }
}
