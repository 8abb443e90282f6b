@testable import BBCSServer
import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The change stream over a real PostgreSQL: changes committed on other connections reach
/// the subscribers through LISTEN/NOTIFY, across a lost LISTEN connection, and whatever the
/// order their seqs commit in. Streams here read on a timer only once a minute unless a test
/// says otherwise, so a delivery within the bound came by NOTIFY, a reconnect or `catchUp`.
@Suite("change stream")
struct ChangeStreamTests {
    /// How long a delivery may take here. Well under the streams' one-minute timer, so a delivery
    /// within it came by NOTIFY; generous, since the tests themselves run on the cooperative pool,
    /// whose two threads the suite's synchronous tests can hold for seconds (the streams have a
    /// thread of their own). The 100 ms figure across real daemons is WatchTests'.
    static let bound: Duration = .seconds(20)

    @Test func aChangeCommittedElsewhereIsDeliveredWithin100Milliseconds() async throws {
        let fixture = try await StreamFixture()
        try await fixture.waitUntilListening()
        let writer = try await fixture.connection()
        var figures: [Duration] = []
        for _ in 0..<5 {
            let committed = ContinuousClock.now
            let seq = try await offPool { try writer.record() }
            let arrived = try await fixture.received.arrival(of: seq, within: Self.bound)
            figures.append(arrived - committed)
        }
        print("change stream: NOTIFY to delivery took \(figures.map { "\($0)" }.joined(separator: ", "))")
        #expect(figures.allSatisfy { $0 < Self.bound })
        #expect(fixture.received.seqs == Array(1...5))
        await fixture.close()
    }

    @Test func afterItsListenConnectionIsKilledItReconnectsAndDeliversWhatWasMissed() async throws {
        let fixture = try await StreamFixture()
        try await fixture.waitUntilListening()
        let admin = try await fixture.connection(database: "postgres")
        let writer = try await fixture.connection()
        let first = try await offPool { try writer.record() }
        _ = try await fixture.received.arrival(of: first, within: Self.bound)

        // New connections are refused while the LISTEN backend dies, so the feed retries a few
        // times and the changes committed meanwhile notify nobody.
        let name = try await offPool { try writer.query("SELECT current_database()").text(0, 0) }
        try await offPool {
            try admin.execute("ALTER DATABASE \(identifier: name) WITH ALLOW_CONNECTIONS false")
            let killed = try admin.query("""
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'
                """, [name]).int(0, 0)
            #expect(killed == 1)
            // pg_terminate_backend only signals: until the backend is gone it could still pass a
            // notification on.
            while try admin.query("SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'", [name]).int(0, 0) > 0 {
                usleep(10_000)
            }
        }
        let missed = try await offPool { [try writer.record(), try writer.record()] }
        try await Task.sleep(for: .milliseconds(800))
        // Normally nothing arrives while the feed cannot connect; a starved test process may
        // look late, so this is printed, not asserted: what counts is what follows.
        print("change stream: while the feed was down, delivered \(fixture.received.seqs)")
        try await offPool { _ = try admin.execute("ALTER DATABASE \(identifier: name) WITH ALLOW_CONNECTIONS true") }

        _ = try await fixture.received.arrival(of: missed[1], within: .seconds(10))
        #expect(fixture.received.seqs == [first] + missed)
        #expect(fixture.stream.delivered == missed[1])
        // A starved test process may see the missed changes arrive by the stream's timer before
        // the feed's next attempt, so the reconnect is waited for, not assumed.
        try await fixture.log.waitFor(within: Self.bound) { $0.hasPrefix("change feed listening again") }
        #expect(fixture.log.count { $0.hasPrefix("change feed lost its database connection") } == 1)
        let back = fixture.log.messages.filter { $0.hasPrefix("change feed listening again") }
        #expect(back.count == 1)
        // The outage lasted several attempts, logged once.
        let attempts = back.first.flatMap { line in line.firstMatch(of: /attempts=(\d+)/).flatMap { Int($0.1) } } ?? 0
        #expect(attempts > 1, "\(back)")
        await fixture.close()
    }

    @Test func aSeqTakenByARolledBackTransactionDoesNotStallDelivery() async throws {
        let fixture = try await StreamFixture(gapLifetime: .seconds(10), pollInterval: .milliseconds(200))
        try await fixture.waitUntilListening()
        let writer = try await fixture.connection()
        let lost = try await offPool { try writer.rolledBack { try writer.record() } }
        // Taken before the commit: the stream cannot see the gap, so cannot start its lifetime,
        // before `next` commits, however late this task runs afterwards.
        let committed = ContinuousClock.now
        let next = try await offPool { try writer.record() }
        #expect(next == lost + 1)
        let arrived = try await fixture.received.arrival(of: next, within: Self.bound)
        print("change stream: a change above a rolled-back seq was delivered after \(arrived - committed)")
        // Delivered at once, while the lost seq is still waited for (unless a starved test
        // process took the whole lifetime to get here: `delivered` is read before the clock)...
        let delivered = fixture.stream.delivered
        #expect(delivered == lost - 1 || ContinuousClock.now - committed >= .seconds(10), "delivered \(delivered)")
        // ...and given up after its lifetime, so `delivered` moves on.
        let deadline = ContinuousClock.now + .seconds(60)
        while fixture.stream.delivered < next, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(fixture.stream.delivered == next)
        #expect(fixture.log.count { $0.hasPrefix("change stream gave up seqs") && $0.contains("\(lost)") } == 1)
        #expect(fixture.received.seqs == [next])
        await fixture.close()
    }

    @Test func twoTransactionsCommittingOutOfSeqOrderAreBothDelivered() async throws {
        let fixture = try await StreamFixture()
        try await fixture.waitUntilListening()
        let slow = try await fixture.connection()
        let quick = try await fixture.connection()
        let early = try await offPool { () -> Int64 in
            try slow.execute("BEGIN")
            return try slow.record()
        }
        let late = try await offPool { try quick.record() }
        #expect(late > early)
        _ = try await fixture.received.arrival(of: late, within: Self.bound)
        #expect(fixture.stream.delivered == early - 1)
        try await offPool { _ = try slow.execute("COMMIT") }
        _ = try await fixture.received.arrival(of: early, within: Self.bound)
        #expect(fixture.received.seqs == [late, early])
        #expect(fixture.stream.delivered == late)
        await fixture.close()
    }

    @Test func catchUpReturnsOnceEverySubscriberHasTheChange() async throws {
        // Never started: catchUp reads and delivers by itself.
        let fixture = try await StreamFixture(start: false)
        let slow = Received()
        fixture.stream.subscribe { changes in
            try? await Task.sleep(for: .milliseconds(200))
            slow.add(changes)
        }
        let writer = try await fixture.connection()
        let seqs = try await offPool { try (0..<5).map { _ in try writer.record() } }
        try await withThrowingTaskGroup(of: Void.self) { callers in
            for seq in seqs { callers.addTask { try await fixture.stream.catchUp(through: seq) } }
            try await callers.waitForAll()
        }
        #expect(fixture.received.seqs == seqs)
        #expect(slow.seqs == seqs)
        #expect(fixture.stream.delivered == seqs.last)
        // Callers who come while a read runs share the next one.
        #expect(fixture.stream.readsBegun <= 2)
        // Delivered already: no read at all.
        try await fixture.stream.catchUp(through: seqs[2])
        #expect(fixture.stream.readsBegun <= 2)
        await fixture.close()
    }

    @Test func catchUpThrowsWhenTheDatabaseCannotBeRead() async throws {
        let pool = PGPool(conninfo: "host=/nonexistent connect_timeout=1", size: 1)
        let stream = ChangeStream(pool: pool, after: 0, logger: Logger(label: "test"))
        await #expect(throws: PGError.self) { try await stream.catchUp(through: 1) }
        await pool.shutdown()
    }

    /// The daemon records a `plan` change for an import that changed rows (not for a dry run
    /// or an import that changed nothing) and a `reminder_created` change per reminder.
    @Test func aPlanImportAndASchedulerRunRecordTheirChanges() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-03-04"])
        try waitFor { daemon.process.log.contains("scheduler ran") }
        let db = try PGConnection(conninfo: daemon.database)
        func changes(_ kind: Change.Kind) throws -> [Change] {
            try ChangeLog.changes(after: 0, db).filter { $0.kind == kind }
        }
        let plans = try changes(.plan)
        #expect(plans.count == 1)
        #expect(plans.first?.detail == .object(["plan": .string(shippedPlan.plan.code)]))
        #expect(plans.first?.login == "bbcsd")

        let reminders = try db.query("SELECT id, kind, subject, recipient, step, to_char(due_date, 'YYYY-MM-DD') FROM reminders ORDER BY id")
        #expect(reminders.count > 0)
        let recorded = try changes(.reminderCreated)
        #expect(recorded.count == reminders.count)
        for row in 0..<min(reminders.count, recorded.count) {
            #expect(recorded[row].detail == .object([
                "reminder": .number(Double(try reminders.int(row, 0))), "reminderKind": .string(try reminders.text(row, 1)),
                "subject": .string(try reminders.text(row, 2)), "recipient": .string(try reminders.text(row, 3)),
                "step": .string(try reminders.text(row, 4)), "dueDate": .string(try reminders.text(row, 5)),
            ]))
        }

        let client = try daemon.client()
        _ = try client.call(PlanImportRequest(content: shippedPlanText, source: nil, dryRun: true))
        _ = try client.call(PlanImportRequest(content: shippedPlanText, source: nil, dryRun: false))
        #expect(try changes(.plan).count == 1, "a dry run or an import that changed nothing recorded a change")
        let vision = #""vision": "greener, safer, healthier Broxtowe, where everyone prospers""#
        #expect(shippedPlanText.contains(vision))
        let text = shippedPlanText.replacingOccurrences(of: vision, with: #""vision": "greener and safer Broxtowe""#)
        _ = try client.call(PlanImportRequest(content: text, source: nil, dryRun: false))
        #expect(try changes(.plan).count == 2)
        // A second run on the same day creates nothing, and records nothing.
        _ = try client.call(SchedulerRunRequest())
        #expect(try changes(.reminderCreated).count == reminders.count)
    }
}

/// Where the streams under test read and deliver: a thread of their own, so the synchronous
/// tests holding the cooperative pool's two threads cannot delay a delivery (a subscriber
/// records each arrival's time as it happens, whenever the test itself gets to look).
private let streamThread = ThreadExecutor(name: "bbcs-change-stream-tests")

/// A fresh migrated database, a pool over it and a stream with a recording subscriber.
private final class StreamFixture: Sendable {
    let conninfo: String
    let pool: PGPool
    let stream: ChangeStream
    let received = Received()
    let log = CapturedLog()

    init(gapLifetime: Duration = .seconds(60), pollInterval: Duration = .seconds(60), start: Bool = true) async throws {
        conninfo = try await offPool { try TestPostgres.freshDatabase() }
        pool = PGPool(conninfo: conninfo, size: 2)
        try await Migrator.migrate(pool, try Migration.load(from: packageRoot.appendingPathComponent("Schema")),
                                  logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let log = self.log
        stream = ChangeStream(pool: pool, after: 0, logger: Logger(label: "test") { _ in log },
                              gapLifetime: gapLifetime, pollInterval: pollInterval, executor: streamThread)
        stream.subscribe { [received] changes in received.add(changes) }
        if start { stream.start() }
    }

    /// A connection of the test's own.
    func connection(database: String? = nil) async throws -> PGConnection {
        let conninfo = database.map { self.conninfo.replacingOccurrences(of: #"dbname=\S+"#, with: "dbname=\($0)", options: .regularExpression) }
            ?? self.conninfo
        return try await offPool { try PGConnection(conninfo: conninfo) }
    }

    /// Waits for the read that follows the first LISTEN.
    func waitUntilListening() async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while stream.readsBegun == 0 {
            guard ContinuousClock.now < deadline else { throw HarnessError(description: "the change feed did not listen") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func close() async {
        await stream.stop()
        await pool.shutdown()
    }
}

/// What a subscriber was given, and when each change arrived.
private final class Received: Sendable {
    private let state = Mutex<[(seq: Int64, at: ContinuousClock.Instant)]>([])

    func add(_ changes: [Change]) {
        let now = ContinuousClock.now
        state.withLock { $0 += changes.map { ($0.seq, now) } }
    }

    var seqs: [Int64] { state.withLock { $0.map(\.seq) } }

    func arrival(of seq: Int64, within bound: Duration) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + bound
        while true {
            if let arrived = state.withLock({ $0.first { $0.seq == seq }?.at }) { return arrived }
            guard ContinuousClock.now < deadline else { throw HarnessError(description: "change \(seq) not delivered within \(bound)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Log lines as `message key=value …`, kept for assertions.
private final class CapturedLog: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    var messages: [String] { lines.withLock { $0 } }
    func count(_ matching: (String) -> Bool) -> Int { messages.filter(matching).count }

    /// Returns once a line matches; throws after `bound`.
    func waitFor(within bound: Duration, _ matching: (String) -> Bool) async throws {
        let deadline = ContinuousClock.now + bound
        while !messages.contains(where: matching) {
            guard ContinuousClock.now < deadline else { throw HarnessError(description: "no such log line within \(bound)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var logLevel: Logger.Level {
        get { .debug }
        set {}
    }
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let fields = (metadata ?? [:]).sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        lines.withLock { $0.append(message.description + fields) }
    }
}

extension PGConnection {
    /// Records a change as the stores do; returns its seq.
    fileprivate func record() throws -> Int64 {
        try ChangeLog.record(self, .figureSubmitted, login: "test", detail: .object(["indicator": .string("ComS_011")]))
    }
}

/// Runs blocking database work on a thread of its own, off Swift's cooperative pool.
private func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
