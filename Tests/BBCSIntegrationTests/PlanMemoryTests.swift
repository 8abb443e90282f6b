import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Logging
import Testing

/// The daemon's in-memory read model: loaded, it answers as the database does; changes
/// written straight into the database reach it through `apply`; a reload that fails is
/// retried. Serialized: the tests share one database and compare memory with it.
@Suite("plan memory", .serialized)
final class PlanMemoryTests {
    static let daemon: TestDaemon = { try! TestDaemon() }()
    let pool: PGPool
    let db: PGConnection
    let logger = Logger(label: "test")
    var today: CalendarDate { CalendarDate(Date()) }

    init() throws {
        pool = PGPool(conninfo: Self.daemon.database, size: 2)
        db = try PGConnection(conninfo: Self.daemon.database)
    }

    deinit {
        let pool = self.pool
        _ = try? blocking { await pool.shutdown() }
    }

    private func wire<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try WireCoding.encoder().encode(value), as: UTF8.self)
    }

    /// A change row as a write would record it, after the write itself.
    private func record(_ kind: Change.Kind, indicator code: String? = nil, task: String? = nil) throws {
        _ = try db.query("""
            INSERT INTO changes (kind, indicator_id, task_id, login)
            VALUES ($1, (SELECT id FROM indicators WHERE code = $2), (SELECT id FROM tasks WHERE code = $3), 'test')
            """, [kind.rawValue, code ?? "", task ?? ""])
    }

    private func applyRecorded(_ memory: PlanMemory) async throws {
        let after = memory.seq
        let changes = try await pool.withConnection { db in try ChangeLog.changes(after: after, db) }
        #expect(!changes.isEmpty)
        await memory.apply(changes)
        #expect(memory.seq == changes.last?.seq)
    }

    @Test func memoryAnswersAsThePlanFileSays() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        let plan = try memory.plans.choose(nil)
        #expect(plan.code == shippedPlan.plan.code)
        #expect(memory.indicators.count == shippedPlan.indicators.count)
        #expect(memory.tasks.map(\.code) == shippedPlan.tasks.map(\.code))
        let filters: [(IndicatorFilter, (PlanDocument.Indicator) -> Bool)] = [
            (IndicatorFilter(), { _ in true }), (IndicatorFilter(objective: "CS1"), { $0.objective == "CS1" }),
            (IndicatorFilter(category: .kpi), { $0.category == .kpi }), (IndicatorFilter(serviceArea: "Licensing"), { $0.serviceArea == "Licensing" }),
            (IndicatorFilter(ownerPost: "licensing manager"), { $0.ownerPost == "Licensing Manager" }),
        ]
        for (filter, matches) in filters {
            #expect(try memory.indicatorList(filter, plan: plan).map(\.code) == shippedPlan.indicators.filter(matches).map(\.code), "\(filter)")
        }
        for indicator in shippedPlan.indicators {
            let detail = try memory.indicatorDetail(indicator.code)
            #expect(detail.targets == indicator.targets.compactMapValues { $0 }, "\(indicator.code)")
            #expect(detail.targetSources?.values.allSatisfy { $0 == TargetSource(revision: 1) } == true, "\(indicator.code)")
            #expect(detail.aliases == indicator.aliases.sorted())
        }
        #expect(try memory.taskList(TaskFilter(post: "Communities and Crime Manager"), today: today, plan: plan).map(\.code)
                == shippedPlan.tasks.filter { $0.responsiblePosts.contains("Communities and Crime Manager") }.map(\.code))
        #expect(plan.objectiveList.map(\.code) == shippedPlan.objectives.map(\.code))
        #expect(plan.strategies.map(\.name) == shippedPlan.strategies.map(\.name))
        #expect(plan.overview.counts.indicators == shippedPlan.indicators.count)
        #expect(plan.history.map(\.revision) == [1])
        #expect(throws: StoreError.notFound(kind: "plan", key: "NO-SUCH-PLAN")) { try memory.plans.choose("NO-SUCH-PLAN") }
        let figures = FigureStore(pool: pool, graceDays: { 30 })
        for posts in [nil, ["Licensing Manager"], ["communities and crime manager", "Licensing Manager"]] as [[String]?] {
            #expect(try wire(memory.due(posts: posts, today: today, graceDays: 30)) == wire(await figures.due(posts: posts, today: today)))
        }
        let principal = memory.principal(login: currentLogin, uid: getuid(), pid: 1, today: today)
        #expect(principal == (try await Directory(pool: pool).principal(login: currentLogin, uid: getuid(), pid: 1, today: today)))
        #expect(principal.standing == .active && principal.posts == [Policy.adminPost])
    }

    @Test func unknownNamesAreNotFoundAsTheDatabaseAnswers() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        #expect(throws: StoreError.notFound(kind: "indicator", key: "ComS_999")) { try memory.indicatorDetail("ComS_999") }
        #expect(throws: StoreError.notFound(kind: "task", key: "NOPE_1")) { try memory.taskDetail("NOPE_1", today: self.today) }
        let plan = try memory.plans.choose(nil)
        #expect(throws: StoreError.notFound(kind: "objective", key: "cs1")) { try memory.indicatorList(IndicatorFilter(objective: "cs1"), plan: plan) }
        #expect(throws: StoreError.notFound(kind: "service area", key: "Nowhere")) {
            try memory.indicatorList(IndicatorFilter(serviceArea: "Nowhere"), plan: plan)
        }
        #expect(throws: StoreError.notFound(kind: "post", key: "Head of Nothing")) {
            try memory.due(posts: ["Head of Nothing"], today: self.today, graceDays: 30)
        }
        #expect(memory.principal(login: "nosuchuser", uid: 9, pid: 1, today: today).standing == .unregistered)
    }

    @Test func lookupsIgnoreCaseAndTakeAliases() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        #expect(try memory.indicator("coms_011").code == "ComS_011")
        #expect(try memory.indicator("COMS_024A").code == "ComS_024a")
        // The OCR's spelling is kept as an alias of the tagged one.
        let aliased = try #require(shippedPlan.indicators.first { !$0.aliases.isEmpty })
        #expect(try memory.indicator(aliased.aliases[0].uppercased()).code == aliased.code)
        #expect(try memory.indicatorDetail(aliased.aliases[0]) == memory.indicatorDetail(aliased.code))
        let task = try #require(shippedPlan.tasks.first { !$0.aliases.isEmpty })
        #expect(try memory.task(task.aliases[0].lowercased()).code == task.code)
        #expect(try memory.task(task.code.lowercased()).code == task.code)
        let post = try #require(shippedPlan.posts.first { !$0.aliases.isEmpty })
        #expect(memory.directory.post(named: post.aliases[0].uppercased())?.name == post.name)
    }

    @Test func aFigureWrittenBySQLShowsOnceItsChangeIsApplied() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        let q1 = Period("2025/26 Q1")!
        #expect(try memory.indicator("ComS_016").figures[q1] == nil)
        _ = try db.query("""
            INSERT INTO figures (indicator_id, period, revision, value, submitted_by)
            SELECT id, '2025/26 Q1', 1, 17, 'test' FROM indicators WHERE code = 'ComS_016'
            """)
        // Memory is not the database: until the change is applied it answers as before.
        #expect(try memory.indicator("ComS_016").figures[q1] == nil)
        try record(.figureSubmitted, indicator: "ComS_016")
        try await applyRecorded(memory)
        #expect(try memory.indicator("ComS_016").figures[q1]?.value == 17)
        #expect(try memory.indicatorDetail("ComS_016").indicator.periods.first { $0.period == q1 }?.figure?.value == 17)
        #expect(!(try memory.due(posts: nil, today: today, graceDays: 30)).contains { $0.indicator == "ComS_016" && $0.period == q1 })
    }

    @Test func aTaskChangedBySQLShowsOnceItsChangeIsApplied() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        let code = shippedPlan.tasks[3].code
        _ = try db.query("UPDATE tasks SET status = 'at_risk', progress = 35 WHERE code = $1", [code])
        try record(.taskUpdated, task: code)
        try await applyRecorded(memory)
        let task = try memory.task(code)
        #expect(task.status == .atRisk && task.progress == 35)
        #expect(try memory.taskList(TaskFilter(status: .atRisk), today: today, plan: memory.plans.choose(nil)).contains { $0.code == code })
    }

    @Test func aPlanChangeReadsEverythingAgain() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        _ = try db.query("UPDATE indicators SET title = 'Retitled by hand' WHERE code = 'ComS_001'")
        _ = try db.query("INSERT INTO indicator_aliases (indicator_id, alias) SELECT id, 'HandMade_1' FROM indicators WHERE code = 'ComS_001'")
        _ = try db.query("UPDATE tasks SET action = 'Rewritten by hand' WHERE code = $1", [shippedPlan.tasks[0].code])
        try record(.plan)
        try await applyRecorded(memory)
        #expect(try memory.indicator("handmade_1").title == "Retitled by hand")
        #expect(try memory.indicatorList(IndicatorFilter(), plan: memory.plans.choose(nil)).first { $0.code == "ComS_001" }?.title == "Retitled by hand")
        #expect(try memory.task(shippedPlan.tasks[0].code).action == "Rewritten by hand")
        #expect(memory.indicators.map(\.code) == shippedPlan.indicators.map(\.code))
    }

    @Test func thePrincipalFollowsAGrantAndARevoke() async throws {
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        let login = "memory_tester"
        #expect(memory.principal(login: login, uid: 4242, pid: 1, today: today).standing == .unregistered)
        _ = try db.query("INSERT INTO users (login, name, created_at, created_by) VALUES ($1, 'M T', now(), 'test')", [login])
        _ = try db.query("""
            INSERT INTO post_holders (user_id, post_id, valid_from, granted_by, granted_at)
            SELECT u.id, p.id, current_date - 1, 'test', now() FROM users u, posts p WHERE u.login = $1 AND p.name = 'Licensing Manager'
            """, [login])
        try record(.directory)
        try await applyRecorded(memory)
        let granted = memory.principal(login: login, uid: 4242, pid: 1, today: today)
        #expect(granted.standing == .active && granted.posts == ["Licensing Manager"])
        _ = try db.query("""
            UPDATE post_holders SET revoked_at = now(), revoked_by = 'test' WHERE user_id = (SELECT id FROM users WHERE login = $1)
            """, [login])
        try record(.directory)
        try await applyRecorded(memory)
        let revoked = memory.principal(login: login, uid: 4242, pid: 1, today: today)
        #expect(revoked.standing == .active && revoked.posts.isEmpty)
        #expect(revoked == (try await Directory(pool: pool).principal(login: login, uid: 4242, pid: 1, today: today)))
    }

    /// The database refusing connections mid-batch: memory keeps its whole last state, and the
    /// next batch (whatever it names) reads what the failed one owed.
    @Test func aFailedReloadIsRetriedByTheNextBatch() async throws {
        let database = try TestPostgres.freshDatabase()
        let name = String(try #require(database.split(separator: " ").first { $0.hasPrefix("dbname=") }).dropFirst("dbname=".count))
        let own = PGPool(conninfo: database, size: 1)
        try await Migrator.migrate(own, try Migration.load(from: packageRoot.appendingPathComponent("Schema")), logger: logger)
        let document = try PlanDocument.load(from: Data(contentsOf: shippedPlanURL))
        _ = try await PlanImporter.importPlan(document, into: own, by: Actor(principal: .daemon(uid: 0, pid: 0), method: "plan.import", at: Date()))
        let memory = try await PlanMemory.load(pool: own, logger: logger)
        let direct = try PGConnection(conninfo: database)
        _ = try direct.query("UPDATE indicators SET title = 'After the outage' WHERE code = 'ComS_012'")
        _ = try direct.query("INSERT INTO changes (kind, indicator_id) SELECT 'target_set', id FROM indicators WHERE code = 'ComS_012'")
        let changes = try await own.withConnection { db in try ChangeLog.changes(after: 0, db) }
        let admin = try PGConnection(conninfo: TestPostgres.shared.conninfo(database: "postgres"))
        _ = try admin.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        _ = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name])
        await memory.apply(changes)
        #expect(try memory.indicator("ComS_012").title != "After the outage")
        #expect(memory.indicators.count == shippedPlan.indicators.count)
        _ = try admin.query("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        let last = try #require(changes.last)
        await memory.apply([Change(seq: last.seq + 1, at: "2026-01-01T00:00:00", kind: .reminderCreated)])
        #expect(try memory.indicator("ComS_012").title == "After the outage")
        await own.shutdown()
    }

    /// The daemon keeps its memory current from the change sequence: a hand edit recorded as a
    /// change shows in its next reads.
    @Test func theDaemonServesAChangeRecordedInTheDatabase() throws {
        let client = try Self.daemon.client()
        _ = try db.query("UPDATE indicators SET title = 'Seen by the daemon' WHERE code = 'ComS_014'")
        try record(.plan)
        let started = ContinuousClock.now
        try waitFor(timeout: .seconds(10)) {
            try client.call(IndicatorShowRequest(code: "ComS_014")).indicator.title == "Seen by the daemon"
        }
        print("change seen by the daemon after \(ContinuousClock.now - started)")
    }
}
