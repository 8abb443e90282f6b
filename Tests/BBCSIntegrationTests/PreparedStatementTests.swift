@testable import BBCSPostgres
import BBCSTestSupport
import Foundation
import Testing

/// Every PGQuery runs as a statement prepared once per connection, against a real PostgreSQL.
@Suite("prepared statements")
struct PreparedStatementTests {
    private struct Prepared: Decodable {
        let name: String
        let statement: String
    }

    private struct Backend: Decodable { let pid: Int }

    /// The session's prepared statements whose text is `sql` (pg_prepared_statements is per session).
    private static func prepared(_ sql: String, on db: PGConnection) throws -> [Prepared] {
        try db.rows(Prepared.self, "SELECT name, statement FROM pg_prepared_statements WHERE statement = \(sql)")
    }

    @Test func aStatementIsPreparedOnceAndReused() throws {
        let db = try PGConnection(conninfo: try TestPostgres.freshDatabase())
        let sql = "SELECT $1::int + 1 AS n"
        #expect(try db.query(sql, [1]).int(0, 0) == 2)
        #expect(try db.query(sql, [41]).int(0, 0) == 42)
        let statements = try Self.prepared(sql, on: db)
        #expect(statements.count == 1 && statements.first?.name.hasPrefix("bbcs_") == true, "\(statements)")
    }

    /// What a request does: a statement run through the pool is still prepared on that
    /// connection for the next caller; a new backend (after the old one was killed)
    /// prepares it again.
    @Test func thePoolsConnectionsKeepTheirStatementsAndAReconnectPreparesAgain() async throws {
        let conninfo = try TestPostgres.freshDatabase()
        let pool = PGPool(conninfo: conninfo, size: 1)
        let sql = "SELECT count(*) AS n FROM pg_class WHERE relname = $1"
        func run() async throws -> (pid: Int, prepared: [Prepared]) {
            try await pool.withConnection { db in
                _ = try db.query(sql, ["pg_class"])
                return (try db.one(Backend.self, "SELECT pg_backend_pid() AS pid").pid, try Self.prepared(sql, on: db))
            }
        }
        let first = try await run()
        #expect(first.prepared.count == 1)
        let again = try await run()
        #expect(again.pid == first.pid && again.prepared.map(\.name) == first.prepared.map(\.name))

        let admin = try PGConnection(conninfo: conninfo)
        _ = try admin.query("SELECT pg_terminate_backend($1)", [first.pid])
        try waitFor { try admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [first.pid]).int(0, 0) == 0 }
        let fresh = try await run()
        #expect(fresh.pid != first.pid && fresh.prepared.count == 1, "\(fresh)")
        await pool.shutdown()
    }

    /// Beyond the limit, statements still run (unnamed) and nothing more is prepared.
    @Test func theCacheIsBounded() throws {
        let db = try PGConnection(conninfo: try TestPostgres.freshDatabase(), preparedStatementLimit: 4)
        for n in 1...10 { #expect(try db.query("SELECT $1::int + \(n)", [n]).int(0, 0) == 2 * n) }
        #expect(db.preparedStatementCount == 4)
        #expect(try db.query("SELECT count(*) FROM pg_prepared_statements").int(0, 0) == 4)
    }

    /// A column added under a prepared `SELECT *` changes its result type, which PostgreSQL
    /// refuses for the old statement ("cached plan must not change result type"): it is
    /// prepared again and answers, at once outside a transaction, on its next use inside one.
    @Test func aSchemaChangeRepreparesTheStatement() throws {
        let conninfo = try TestPostgres.freshDatabase()
        let db = try PGConnection(conninfo: conninfo), other = try PGConnection(conninfo: conninfo)
        try other.execute("CREATE TABLE t (a int)")
        try other.execute("INSERT INTO t VALUES (1)")
        let sql = "SELECT * FROM t WHERE a = $1"
        #expect(try db.query(sql, [1]).columnNames == ["a"])

        try other.execute("ALTER TABLE t ADD COLUMN b int")
        #expect(try db.query(sql, [1]).columnNames == ["a", "b"])
        #expect(try Self.prepared(sql, on: db).count == 1)

        try other.execute("ALTER TABLE t ADD COLUMN c int")
        try db.execute("BEGIN")
        #expect(throws: PGError.self) { try db.query(sql, [1]) }
        try db.execute("ROLLBACK")
        #expect(try db.query(sql, [1]).columnNames == ["a", "b", "c"])
        #expect(try Self.prepared(sql, on: db).count == 1)
    }
}

extension PGResult {
    fileprivate var columnNames: [String] { (0..<columnCount).map(columnName) }
}
