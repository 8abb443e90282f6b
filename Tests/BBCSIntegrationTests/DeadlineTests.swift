import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// Every request is bounded by `request_timeout` and `lock_timeout`: a table locked by another
/// session, or a frozen PostgreSQL, gets its writers answered `timeout` with nothing stored,
/// while requests that do not need the table go on; the daemon serves again once it is free.
// The limit only stops a hung test: a loaded 2-core machine has held these tests' threads
// for over 3 minutes in the full parallel run (each counts from when it was started, not run).
@Suite("request deadlines", .timeLimit(.minutes(10)))
struct DeadlineTests {
    private static let submit = FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 430, note: "n")
    private static let short = ["--now", "2026-07-10T09:00:00Z", "--request-timeout", "3", "--lock-timeout", "1"]

    @Test func writersBehindALockedTableAreAnsweredTimeoutAndOtherRequestsGoOn() throws {
        let daemon = try TestDaemon(extraArguments: Self.short)
        let db = try PGConnection(conninfo: daemon.database)
        let before = try storedFigures(db)
        let holder = try PGConnection(conninfo: daemon.database)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        let socket = daemon.socketPath
        // More writers than the pool has connections: the later ones wait for one, then the lock.
        let writers = (0..<8).map { _ in
            Background { () -> (ResponseError?, Duration) in
                let client = try Client(socketPath: socket)
                let started = ContinuousClock.now
                let error = client.error(Self.submit)
                return (error, ContinuousClock.now - started)
            }
        }
        try waitUntilBlocked(holder)
        let client = try daemon.client()
        for (name, call) in [("objective.list", { _ = try client.call(ObjectiveListRequest()) }),
                             ("indicator.show", { _ = try client.call(IndicatorShowRequest(code: "ComS_011")) }),
                             ("system.hello", { _ = try client.call(HelloRequest()) })] as [(String, () throws -> Void)] {
            let started = ContinuousClock.now
            try call()
            let took = ContinuousClock.now - started
            print("deadlines: \(name) answered in \(took) while figures was locked")
            #expect(took < .seconds(6), "\(name) took \(took)")
        }
        for writer in writers {
            let (error, took) = try writer.value()
            print("deadlines: a writer behind the lock was answered \(error?.code.rawValue ?? "ok") after \(took) (lock_timeout 1 s, request_timeout 3 s)")
            #expect(error?.code == .timeout, "\(String(describing: error))")
            #expect(error?.message == "the request did not finish within 3 s (a lock or a slow database); nothing was changed")
            #expect(took < .seconds(6))
        }
        try holder.execute("ROLLBACK")
        #expect(try storedFigures(db) == before, "a timed-out write was stored")
        #expect(client.error(Self.submit) == nil)
        #expect(try storedFigures(db) == before + 1)
        #expect(client.error(Self.submit)?.code == .conflict, "stored once, then refused as already there")
    }

    /// With lock_timeout longer than request_timeout, the statement is cancelled at the
    /// request's deadline, and its connection is not handed to the next request.
    @Test func aStatementStillRunningAtTheDeadlineIsCancelled() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z", "--request-timeout", "2", "--lock-timeout", "60"])
        let db = try PGConnection(conninfo: daemon.database)
        let before = try storedFigures(db)
        let holder = try PGConnection(conninfo: daemon.database)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        let socket = daemon.socketPath
        let writer = Background { () -> (ResponseError?, Duration) in
            let started = ContinuousClock.now
            let error = try Client(socketPath: socket).error(Self.submit)
            return (error, ContinuousClock.now - started)
        }
        try waitUntilBlocked(holder)
        let (error, took) = try writer.value()
        print("deadlines: a write held 60 s by lock_timeout was answered \(error?.code.rawValue ?? "ok") after \(took) (request_timeout 2 s)")
        #expect(error?.code == .timeout)
        #expect(took < .seconds(4))
        // Nothing of it waits on the lock any more.
        #expect(try holder.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
                .int(0, 0) == 0)
        try holder.execute("COMMIT")
        #expect(try storedFigures(db) == before)
        #expect(try daemon.client().error(Self.submit) == nil)
    }

    /// PostgreSQL stopped with SIGSTOP (postmaster and every backend) answers nothing, not even
    /// a cancel: requests are answered within the deadline, reads from memory go on, and once
    /// it runs again no wedged connection is left in the pool.
    @Test func aFrozenPostgresIsAnsweredWithinTheDeadline() throws {
        let cluster = try startedCluster("bbcs-test-frozen")
        defer { removeCluster(cluster) }
        let daemon = try TestDaemon(database: cluster.conninfo, extraArguments: Self.short)
        let client = try daemon.client()
        _ = try client.call(PlanShowRequest())
        let pids = try serverProcesses(cluster)
        print("deadlines: freezing \(pids.count) PostgreSQL processes")
        for pid in pids { kill(pid, SIGSTOP) }
        var thawed = false
        let thaw = { if !thawed { for pid in pids { kill(pid, SIGCONT) }; thawed = true } }
        defer { thaw() }

        // (plan.show of any plan is answered from memory, with the other reads below.)
        for (name, request) in [("post.list", { client.error(PostListRequest()) }),
                                ("figure.submit", { client.error(Self.submit) })] as [(String, () -> ResponseError?)] {
            let started = ContinuousClock.now
            let error = request()
            let took = ContinuousClock.now - started
            print("deadlines: \(name) on a frozen PostgreSQL answered \(error?.code.rawValue ?? "ok") after \(took) (request_timeout 3 s)")
            #expect([.timeout, .unavailable].contains(error?.code), "\(name): \(String(describing: error))")
            if name == "figure.submit" {
                // Sent to a server that stopped, it may commit once it runs again, and no fence can
                // reach it in time: outcome unknown is a true answer then (the other two, when the
                // statement never went out). Cancel grace (1 s) and fencing (2 s) come on top.
                #expect(took < .seconds(9), "\(name) took \(took)")
            } else {
                #expect(error?.data?["outcome"] == nil, "\(name): \(String(describing: error))")
                #expect(took < .seconds(6), "\(name) took \(took)")
            }
        }
        let started = ContinuousClock.now
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")).indicator.code == "ComS_011")
        #expect(try client.call(HelloRequest()).server == "bbcsd")
        #expect(try client.call(PlanShowRequest()).code == shippedPlan.plan.code)
        #expect(try client.call(ObjectiveListRequest()).objectives.isEmpty == false)
        print("deadlines: indicator.show, system.hello, plan.show and objective.list on a frozen PostgreSQL answered in \(ContinuousClock.now - started)")

        thaw()
        try waitFor { client.error(PostListRequest()) == nil }
        // Every pooled connection answers again: none kept that was still wedged.
        let socket = daemon.socketPath
        let readers = (0..<8).map { _ in
            Background { () -> ResponseError? in try Client(socketPath: socket).error(PostListRequest()) }
        }
        for reader in readers { #expect(try reader.value() == nil) }
        #expect(client.error(Self.submit) == nil, "the submission timed out on the frozen server, so it was not stored")
        #expect(daemon.process.isRunning)
    }

    /// With every ordinary connection held by a statement blocked on a lock, work that may use
    /// the reserve (the scheduler) still gets one at once; a request waits and is refused.
    @Test func theReservedConnectionServesWhatMayUseIt() throws {
        let database = try TestPostgres.freshDatabase()
        let holder = try PGConnection(conninfo: database)
        try holder.execute("CREATE TABLE held (n int)")
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
        let pool = PGPool(conninfo: database, size: 2, waitTimeout: { .seconds(1) },
                          sessionTimeouts: { SessionTimeouts(statement: .seconds(30), lock: .seconds(30)) }, reserved: 1)
        let blocked = Background { try blocking { try await pool.withConnection { db in try db.query("SELECT count(*) FROM held").int(0, 0) } } }
        // Asked outside the holder's transaction, which would see activity as of its first look.
        try waitUntilBlocked(try PGConnection(conninfo: database))
        let started = ContinuousClock.now
        #expect(throws: PGError.self) { try blocking { try await pool.withConnection { db in try db.query("SELECT 1").int(0, 0) } } }
        let refused = ContinuousClock.now - started
        let reserved = try blocking {
            try await PGPool.$usesReserve.withValue(true) { try await pool.withConnection { db in try db.query("SELECT 1").int(0, 0) } }
        }
        print("deadlines: an ordinary caller was refused after \(refused); the reserved one was served \(ContinuousClock.now - started - refused) later")
        #expect(reserved == 1)
        try holder.execute("COMMIT")
        #expect(try blocked.value() == 0)
        try blocking { await pool.shutdown() }
    }

    /// Options a connection string leaves out get bbcs's defaults, in keyword and URI forms;
    /// those it sets stay as they are.
    @Test func connectionsGetKeepalivesUnlessTheStringSetsThem() throws {
        let database = try TestPostgres.freshDatabase()
        let keywords = try PGConnection(conninfo: database)
        #expect(keywords.option("keepalives") == "1")
        #expect(keywords.option("keepalives_idle") == "5")
        #expect(keywords.option("tcp_user_timeout") == "10000")
        let own = try PGConnection(conninfo: database + " keepalives_idle=30 connect_timeout=7")
        #expect(own.option("keepalives_idle") == "30")
        #expect(own.option("connect_timeout") == "7")
        #expect(own.option("keepalives_count") == "3")
        let host = try #require(keywords.option("host")), name = try #require(keywords.option("dbname")), user = try #require(keywords.option("user"))
        let uri = try PGConnection(conninfo: "postgresql:///\(name)?host=\(host)&user=\(user)&keepalives_interval=9")
        #expect(uri.option("keepalives_interval") == "9")
        #expect(uri.option("keepalives") == "1")
        #expect(try uri.query("SELECT current_database()").text(0, 0) == name)
        #expect(throws: PGError.self) { try PGConnection(conninfo: "host=/nowhere no_such_option=1") }
    }
}

/// ComS_011's figures for 2025/26 Q1, every revision.
private func storedFigures(_ db: PGConnection) throws -> Int {
    try db.query("""
        SELECT count(*) FROM figures f JOIN indicators i ON i.id = f.indicator_id WHERE i.code = 'ComS_011' AND f.period = '2025/26 Q1'
        """).int(0, 0)
}
