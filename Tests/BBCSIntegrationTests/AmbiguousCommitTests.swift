import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
@testable import BBCSServer
import BBCSTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// A write whose connection breaks with its COMMIT in flight is never run again blindly: the
/// daemon fences its request key on a fresh connection and answers what happened. No reply
/// contradicts the database.
@Suite("ambiguous commits", .serialized)
struct AmbiguousCommitTests {
    /// 16 writers correct figures, each its own indicator and period (so no real conflict),
    /// while the daemon's backends are terminated every 0.4 s. Every `ok` is stored exactly
    /// once with the revision it names; no `conflict` and no plain `unavailable` is for a
    /// stored write; `unavailable` with outcome unknown (and no reply at all) may be either.
    @Test func terminatedBackendsUnderLoadGetNoFalseAnswer() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let cells = Array(shippedPlan.indicators.prefix(16)).enumerated().map { i, indicator in
            WriterCell(writer: i, code: indicator.code,
                       period: indicator.frequency == .quarterly ? Period(startYear: 2025, quarter: 1) : Period(startYear: 2025))
        }
        let setup = try daemon.client()
        for cell in cells { _ = try setup.call(FigureSubmitRequest(code: cell.code, period: cell.period, value: 1000, note: "first")) }

        let stop = Atomic<Bool>(false)
        let database = try #require(daemon.database.split(separator: " ").first { $0.hasPrefix("dbname=") }?.dropFirst(7))
        let terminator = Background { () -> Int in
            let admin = try PGConnection(conninfo: TestPostgres.shared.conninfo(database: "postgres"))
            var terminated = 0
            while !stop.load(ordering: .relaxed) {
                usleep(400_000)
                terminated += try admin.query("""
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                    """, [String(database)]).int(0, 0)
            }
            return terminated
        }
        let socket = daemon.socketPath, until = ContinuousClock.now + .seconds(10)
        let writers = cells.map { cell in Background { try Self.write(cell, socket: socket, until: until) } }
        let attempts = try writers.flatMap { try $0.value() }
        stop.store(true, ordering: .relaxed)
        let terminated = try terminator.value()

        let db = try PGConnection(conninfo: daemon.database)
        var falseAnswers: [String] = [], unknownStored = 0, unknownNotStored = 0
        for cell in cells {
            let rows = try db.query("""
                SELECT f.revision, f.reason FROM figures f JOIN indicators i ON i.id = f.indicator_id
                WHERE i.code = $1 AND f.period = $2 AND f.revision > 1 ORDER BY f.revision
                """, [cell.code, cell.period.description])
            var revisions: [String: [Int]] = [:]
            for row in 0..<rows.count { revisions[try rows.text(row, 1), default: []].append(try rows.int(row, 0)) }
            // The revisions are 2, 3, ... with no gap, each from one attempt.
            #expect(revisions.values.flatMap { $0 }.sorted() == Array(0..<rows.count).map { $0 + 2 }, "\(cell.code): \(revisions)")
            let audited = try db.query("SELECT count(*) FROM audit WHERE method = 'figure.correct' AND object = $1 AND outcome = 'ok'",
                                       [cell.code]).int(0, 0)
            #expect(audited == rows.count, "\(cell.code): \(audited) audit rows for \(rows.count) corrections")
            for attempt in attempts where attempt.cell == cell {
                let found = revisions[attempt.reason] ?? []
                switch attempt.reply {
                case .ok(let revision):
                    if found != [revision] { falseAnswers.append("\(attempt.reason): ok revision \(revision), stored \(found)") }
                case .refused(let code):
                    if !found.isEmpty { falseAnswers.append("\(attempt.reason): \(code), stored \(found)") }
                case .unknown, .noReply:
                    if found.isEmpty { unknownNotStored += 1 } else { unknownStored += 1 }
                    if found.count > 1 { falseAnswers.append("\(attempt.reason): stored twice \(found)") }
                }
            }
        }
        let log = daemon.process.log
        let resolvedCommitted = log.components(separatedBy: "ambiguous commit resolved").dropFirst().filter { $0.contains("outcome=committed") }.count
        let resolvedFenced = log.components(separatedBy: "ambiguous commit resolved").dropFirst().filter { $0.contains("not committed") }.count
        func count(_ kind: (Attempt.Reply) -> Bool) -> Int { attempts.filter { kind($0.reply) }.count }
        print("""
            ambiguous commits under terminated backends: \(attempts.count) corrections by 16 writers in 10 s, \(terminated) backends terminated; \
            ok \(count { if case .ok = $0 { true } else { false } }), \
            conflict \(count { $0 == .refused("conflict") }), unavailable \(count { $0 == .refused("unavailable") }), \
            other refusals \(count { if case .refused(let c) = $0 { c != "conflict" && c != "unavailable" } else { false } }), \
            outcome unknown \(count { $0 == .unknown }), no reply \(count { $0 == .noReply }) \
            (of those stored \(unknownStored), not stored \(unknownNotStored)); \
            the daemon resolved \(resolvedCommitted) ambiguous commits as committed, \(resolvedFenced) as not committed
            """)
        #expect(falseAnswers.isEmpty, "\(falseAnswers.count) false answers: \(falseAnswers.prefix(20))")
        #expect(count { if case .ok = $0 { true } else { false } } > 0)
        #expect(count { $0 == .refused("conflict") } == 0, "a writer alone on its figure met a conflict")
    }

    /// A COMMIT that went through on a connection that then broke, made certain: synchronous
    /// replication to a standby that does not exist holds each commit after it is written
    /// locally, and terminating the waiting backend ends its connection with the change
    /// committed. A guarded one-statement write (figure.submit) and a transaction (post.add)
    /// are each answered as stored, once, and the daemon logs how it resolved them.
    @Test func aCommitCutOffAfterItWentThroughIsAnsweredAsStored() throws {
        let cluster = try startedCluster("bbcs-test-ambiguous")
        defer { removeCluster(cluster) }
        let daemon = try TestDaemon(database: cluster.conninfo, extraArguments: ["--now", "2026-07-10T09:00:00Z"])
        let admin = try PGConnection(conninfo: cluster.conninfo(database: "postgres"))
        let db = try PGConnection(conninfo: cluster.conninfo)
        let client = try daemon.client(), socket = daemon.socketPath
        // The scheduler runs once at start (then every 300 s): its commit is not the one to cut off.
        for _ in 0..<1200 where !daemon.process.log.contains("scheduler ran") { usleep(50_000) }
        let period = Period(startYear: 2025, quarter: 2)

        let submitted = try Self.cutOffAtCommit(cluster, admin, statement: "WITH caller AS%") {
            try Client(socketPath: socket).call(FigureSubmitRequest(code: "ComS_011", period: period, value: 12, note: "cut off"))
        }
        #expect(submitted.status.figure?.revision == 1 && submitted.status.figure?.value == 12)
        #expect(try db.query("""
            SELECT count(*) FROM figures f JOIN indicators i ON i.id = f.indicator_id WHERE i.code = 'ComS_011' AND f.period = $1
            """, [period.description]).int(0, 0) == 1)
        #expect(try db.query("SELECT count(*) FROM audit WHERE method = 'figure.submit' AND object = 'ComS_011'").int(0, 0) == 1)

        let post = try Self.cutOffAtCommit(cluster, admin, statement: "COMMIT") {
            try Client(socketPath: socket).call(PostAddRequest(name: "Cut Off Post"))
        }
        #expect(post.name == "Cut Off Post")
        #expect(try db.query("SELECT count(*) FROM posts WHERE name = 'Cut Off Post'").int(0, 0) == 1)
        #expect(try db.query("SELECT count(*) FROM audit WHERE method = 'post.add' AND object = 'Cut Off Post'").int(0, 0) == 1)

        // Each change's key is stored with its seq; the fence found them.
        #expect(try db.query("""
            SELECT count(*) FROM request_keys k JOIN changes c ON c.seq = k.seq WHERE c.kind IN ('figure_submitted', 'directory')
              AND c.detail::text LIKE ANY (ARRAY['%ComS_011%', '%Cut Off Post%'])
            """).int(0, 0) == 2)
        let resolved = daemon.process.log.components(separatedBy: "ambiguous commit resolved").dropFirst()
        #expect(resolved.filter { $0.contains("outcome=committed") }.count >= 2, "\(daemon.process.log.suffix(3000))")
        // The reads after it see the change.
        #expect(try client.call(FigureHistoryRequest(code: "ComS_011", period: period)).revisions.count == 1)
    }

    /// Runs `request` while every commit of the cluster waits for a standby that is not there,
    /// terminates the daemon's backend waiting on a statement like `statement`, then lets
    /// commits through again; returns the reply.
    static func cutOffAtCommit<T: Sendable>(_ cluster: PostgresCluster, _ admin: PGConnection, statement: String,
                                            _ request: @escaping @Sendable () throws -> T) throws -> T {
        // ALTER SYSTEM cannot share a query string (an implicit transaction) with the reload.
        func synchronous(_ on: Bool) throws {
            try admin.query(on ? "ALTER SYSTEM SET synchronous_standby_names = 'bbcs_absent_standby'" : "ALTER SYSTEM RESET synchronous_standby_names")
            try admin.query("SELECT pg_reload_conf()")
        }
        try synchronous(true)
        defer { try? synchronous(false) }
        // The reload reaches every backend before its next statement; a new one shows it took.
        var applied = false
        for _ in 0..<600 where !applied {
            let setting = try PGConnection(conninfo: cluster.conninfo(database: "postgres")).query("SHOW synchronous_standby_names").text(0, 0)
            applied = setting == "bbcs_absent_standby"
            if !applied { usleep(50_000) }
        }
        guard applied else { throw HarnessError(description: "the cluster did not take synchronous_standby_names") }
        let answered = Atomic<Bool>(false)
        let reply = Background { () throws -> T in
            defer { answered.store(true, ordering: .relaxed) }
            return try request()
        }
        // Any commit of the daemon's may wait (the scheduler's too, holding locks the request
        // needs): each is cut off, until the request's own has been.
        var cutOff = false
        for _ in 0..<1200 where !cutOff && !answered.load(ordering: .relaxed) {
            usleep(50_000)
            let rows = try admin.query("""
                SELECT pid, query LIKE $2 AS requested FROM pg_stat_activity WHERE datname = $1 AND wait_event = 'SyncRep'
                """, [cluster.database, statement])
            for row in 0..<rows.count {
                try admin.query("SELECT pg_terminate_backend($1)", [try rows.int(row, 0)])
                cutOff = cutOff || rows.bool(row, 1)
            }
        }
        try synchronous(false)
        guard cutOff else {
            let outcome = Result { try reply.value() }
            throw HarnessError(description: "no backend of the daemon waited at COMMIT for \(statement); the request gave \(outcome)")
        }
        return try reply.value()
    }

    struct WriterCell: Sendable, Equatable {
        let writer: Int
        let code: String
        let period: Period
    }

    struct Attempt: Sendable {
        enum Reply: Sendable, Equatable {
            /// Stored, as this revision.
            case ok(Int)
            /// An error reply that says nothing was stored (its code).
            case refused(String)
            /// `unavailable` with outcome unknown.
            case unknown
            /// The connection closed or failed without a reply.
            case noReply
        }
        let cell: WriterCell
        let reason: String
        let reply: Reply
    }

    /// One writer's corrections until `until`, each with a reason of its own.
    static func write(_ cell: WriterCell, socket: String, until: ContinuousClock.Instant) throws -> [Attempt] {
        var attempts: [Attempt] = []
        var client: Client?
        var revision: Int? = 1
        var n = 0
        while ContinuousClock.now < until {
            do {
                let c = try client ?? Client(socketPath: socket)
                client = c
                guard let current = revision else {
                    // After an answer that leaves it open, the writer reads what is current.
                    let history = try c.call(FigureHistoryRequest(code: cell.code, period: cell.period))
                    revision = history.revisions.map(\.revision).max()
                    continue
                }
                n += 1
                let reason = "w\(cell.writer) a\(n)"
                let request = FigureCorrectRequest(code: cell.code, period: cell.period, value: Double(1000 + n), reason: reason,
                                                   revision: current, note: "n")
                do {
                    let result = try c.call(request)
                    let stored = result.status.figure?.revision ?? -1
                    attempts.append(Attempt(cell: cell, reason: reason, reply: .ok(stored)))
                    revision = stored
                } catch ClientError.server(let error) {
                    if error.code == .unavailable, error.data?["outcome"] == "unknown" {
                        attempts.append(Attempt(cell: cell, reason: reason, reply: .unknown))
                        revision = nil
                    } else {
                        attempts.append(Attempt(cell: cell, reason: reason, reply: .refused(error.code.rawValue)))
                        if error.code != .unavailable { revision = nil }
                    }
                } catch {
                    attempts.append(Attempt(cell: cell, reason: reason, reply: .noReply))
                    client = nil
                    revision = nil
                }
            } catch {
                // The history read or a new connection failed: try again shortly.
                client = nil
                usleep(50_000)
            }
        }
        return attempts
    }
}

/// The fence itself, on a real database: a fenced key can never be stored by its write, a
/// stored key fences as committed with its seq, a fence waits for a write still holding its
/// key, and a keyed write whose connection breaks is run again only when it did not commit.
@Suite("request keys")
struct RequestKeyTests {
    let conninfo: String
    let pool: PGPool
    let db: PGConnection

    init() async throws {
        conninfo = try TestPostgres.freshDatabase()
        pool = PGPool(conninfo: conninfo, size: 2, waitTimeout: { .seconds(2) })
        try await Migrator.migrate(pool, Migration.load(from: packageRoot.appendingPathComponent("Schema")), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        db = try PGConnection(conninfo: conninfo)
    }

    func changes() throws -> Int { try db.query("SELECT count(*) FROM changes").int(0, 0) }

    func stored(_ key: RequestKey) throws -> (found: Bool, seq: Int?) {
        let rows = try db.query("SELECT seq FROM request_keys WHERE key = $1::uuid", [key.description])
        return (rows.count == 1, rows.count == 1 ? rows.string(0, 0).flatMap { Int($0) } : nil)
    }

    @Test func aFencedKeyCanNeverBeStoredByItsWrite() throws {
        let key = RequestKey()
        #expect(try key.fence(db) == .fenced)
        let before = try changes()
        #expect(throws: PGError.self) { try ChangeLog.record(db, .plan, login: "test", key: key) }
        #expect(try changes() == before, "the write carrying a fenced key stored its change")
        // Fencing again finds the fence, not a write.
        #expect(try key.fence(db) == .fenced)
        #expect(try stored(key) == (true, nil))
    }

    @Test func aStoredKeyFencesAsCommittedWithItsSeq() throws {
        let key = RequestKey()
        let seq = try ChangeLog.record(db, .plan, login: "test", key: key)
        #expect(try key.fence(db) == .committed(seq: seq))
        #expect(try stored(key) == (true, Int(seq)))
    }

    /// A write in flight elsewhere holds its key: the fence waits for its end and follows it.
    @Test(arguments: [true, false]) func aFenceWaitsForTheWriteHoldingItsKey(commits: Bool) throws {
        let key = RequestKey(), writer = try PGConnection(conninfo: conninfo)
        try writer.execute("BEGIN")
        let seq = try ChangeLog.record(writer, .plan, login: "test", key: key)
        let fencer = try PGConnection(conninfo: conninfo)
        let fencerPID = try fencer.query("SELECT pg_backend_pid()").int(0, 0)
        let fence = Background { try key.fence(fencer) }
        var waited = false
        for _ in 0..<200 where !waited {
            usleep(20_000)
            waited = try db.query("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", [fencerPID]).bool(0, 0)
        }
        #expect(waited, "the fence did not wait for the write holding its key")
        try writer.execute(commits ? "COMMIT" : "ROLLBACK")
        #expect(try fence.value() == (commits ? .committed(seq: seq) : .fenced))
    }

    /// A statement that committed and then lost its connection is answered from its seq, not run again.
    @Test func aStatementThatCommittedBeforeItsConnectionBrokeRunsOnce() async throws {
        let runs = Mutex<[RequestKey]>([])
        let answer = try await pool.keyedStatement({ db, key -> Int64 in
            runs.withLock { $0.append(key) }
            let seq = try ChangeLog.record(db, .plan, login: "test", key: key)
            try db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            return -seq
        }, committed: { $0 })
        let keys = runs.withLock { $0 }
        #expect(keys.count == 1)
        #expect(answer > 0)
        #expect(try stored(keys[0]) == (true, Int(answer)))
        #expect(try changes() == 1)
    }

    /// One cut off before it wrote anything is fenced, then run once more under a new key.
    @Test func aStatementCutOffBeforeItCommittedRunsOnceMoreUnderANewKey() async throws {
        let runs = Mutex<[RequestKey]>([])
        let answer = try await pool.keyedStatement({ db, key -> Int64 in
            let first = runs.withLock { $0.append(key); return $0.count == 1 }
            if first { try db.execute("SELECT pg_terminate_backend(pg_backend_pid())") }
            return try ChangeLog.record(db, .plan, login: "test", key: key)
        }, committed: { _ in -1 })
        let keys = runs.withLock { $0 }
        #expect(keys.count == 2 && keys[0] != keys[1])
        #expect(try stored(keys[0]) == (true, nil), "the first key is not fenced")
        #expect(try stored(keys[1]) == (true, Int(answer)))
        #expect(try changes() == 1)
    }

    /// A transaction whose COMMIT never reached the server (cut off inside it) runs again;
    /// only one of its changes is stored.
    @Test func aTransactionCutOffBeforeCommitRunsOnceMore() async throws {
        let runs = Mutex(0)
        let seq = try await pool.keyedTransaction { db, key -> Int64 in
            let seq = try ChangeLog.record(db, .plan, login: "test", key: key)
            if runs.withLock({ $0 += 1; return $0 == 1 }) { try db.execute("SELECT pg_terminate_backend(pg_backend_pid())") }
            return seq
        }
        #expect(runs.withLock { $0 } == 2)
        #expect(try changes() == 1 && db.query("SELECT max(seq) FROM changes").int(0, 0) == Int(seq))
    }

    /// `unavailable` with outcome unknown is the one error reply to a write that may have stored it.
    @Test func onlyAnUnknownOutcomeSaysSoOnTheWire() {
        let logger = Logger(label: "test")
        let unknown = WireErrors.map(PGError.outcomeUnknown("cut off"), method: "figure.correct", logger: logger)
        #expect(unknown.code == .unavailable && unknown.data?["outcome"] == "unknown")
        #expect(unknown.message.contains("read it back") && !unknown.message.contains("cut off"))
        let down = WireErrors.map(PGError.connectionFailed("gone"), method: "figure.correct", logger: logger)
        #expect(down.code == .unavailable && down.data?["outcome"] == nil)
    }

    /// When the fence cannot be answered in time (another backend holds the key and does not
    /// end), the write's outcome is unknown: never `connectionFailed`, which says nothing was stored.
    @Test func anUnresolvedFenceIsOutcomeUnknown() async throws {
        let holder = try PGConnection(conninfo: conninfo)
        let started = ContinuousClock.now
        do {
            let answer = try await pool.keyedStatement({ db, key -> Int in
                try holder.execute("BEGIN")
                try holder.query("INSERT INTO request_keys (key) VALUES ($1::uuid)", [key.description])
                try db.execute("SELECT pg_terminate_backend(pg_backend_pid())")
                return 0
            }, committed: { _ in 1 })
            Issue.record("a write whose fence could not be answered was answered \(answer)")
        } catch let error as PGError {
            guard case .outcomeUnknown = error else { Issue.record("expected outcome unknown, got \(error)"); return }
        }
        print("an unresolved fence gave up after \(ContinuousClock.now - started) (pool wait timeout 2 s)")
        try holder.execute("ROLLBACK")
    }
}
