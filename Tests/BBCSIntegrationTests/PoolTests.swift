import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// The daemon's database connections outlive the answers that are not results.
@Suite("connection pool")
struct PoolTests {
    private struct Backend: Decodable { let pid: Int }

    /// Not found, conflict and invalid answers each used to throw their connection away, so
    /// the next request paid for a new PostgreSQL backend; the one connection stays now.
    @Test func domainErrorsKeepTheirConnection() throws {
        let daemon = try TestDaemon(extraArguments: ["--pool-size", "1"])
        let client = try daemon.client()
        _ = try client.call(IndicatorShowRequest(code: "ComS_011"))
        let db = try PGConnection(conninfo: daemon.database)
        func backends() throws -> [Int] {
            try db.rows(Backend.self, """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND query NOT LIKE 'LISTEN %'
                  AND query NOT LIKE '%coalesce(max(seq), 0) FROM changes%' ORDER BY pid
                """).map(\.pid)
        }
        // The change feed's LISTEN connection and the health probe's are the daemon's own, outside the pool.
        let before = try backends()
        #expect(before.count == 1, "\(before)")
        for _ in 0..<10 {
            #expect(client.error(IndicatorShowRequest(code: "ComS_999"))?.code == .notFound)
            #expect(client.error(FigureCorrectRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 1, reason: "x", revision: 99))
                    .map { [.notFound, .conflict].contains($0.code) } == true)
            #expect(client.error(TaskShowRequest(code: "NO_SUCH_TASK"))?.code == .notFound)
        }
        #expect(try backends() == before)
    }

    /// With the one connection held by a request blocked on a lock, the next request waits
    /// `pool_wait_timeout` and is answered `unavailable`; the pool serves again once it is free.
    @Test func aRequestWaitsForAConnectionNoLongerThanTheTimeout() throws {
        let daemon = try TestDaemon(extraArguments: ["--pool-size", "1"], environment: ["BBCS_POOL_WAIT_TIMEOUT": "1"])
        let holder = try PGConnection(conninfo: daemon.database)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE figures IN EXCLUSIVE MODE")
        let blocked = Background { () -> ResponseError? in
            try daemon.client().error(FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 430, note: "n"))
        }
        try waitUntilBlocked(holder)

        let started = ContinuousClock.now
        let refused = try daemon.client().error(FigureSubmitRequest(code: "ComS_001", period: Period("2025/26 Q1")!, value: 1, note: "n"))
        let waited = ContinuousClock.now - started
        print("pool wait: answered after \(waited) with a 1 s pool_wait_timeout")
        #expect(refused?.code == .unavailable, "\(String(describing: refused))")
        #expect(refused?.message == "the database pool is busy: no connection came free within 1 s")
        #expect(waited >= .milliseconds(950) && waited < .seconds(10), "\(waited)")

        try holder.execute("COMMIT")
        #expect(try blocked.value() == nil)
        #expect(try daemon.client().error(FigureSubmitRequest(code: "ComS_001", period: Period("2025/26 Q1")!, value: 1, note: "n")) == nil)
    }
}
