import BBCSCore
import BBCSPostgres
import BBCSTestSupport
import Foundation
import Testing

/// `PGQuery` as text and values, without a database.
@Suite("typed SQL: queries")
struct SQLQueryBuilderTests {
    @Test func interpolatedValuesAreNumberedParameters() {
        let missing: Int? = nil
        let query: PGQuery = "SELECT * FROM figures WHERE indicator_id = \(42) AND period = \(Period("2025/26 Q1")!) AND note = \(missing)"
        #expect(query.sql == "SELECT * FROM figures WHERE indicator_id = $1 AND period = $2 AND note = $3")
        #expect(query.values == ["42", "2025/26 Q1", nil])
    }

    @Test func aValueNeverBecomesText() {
        let evil = "x'); DROP TABLE figures; --"
        let query: PGQuery = "SELECT \(evil)::text"
        #expect(query.sql == "SELECT $1::text")
        #expect(query.values == [evil])
    }

    @Test func fragmentsAreRenumberedWhereTheyLand() {
        let condition: PGQuery = "a = \(1) AND b = \(2)"
        let query: PGQuery = "SELECT \(0) WHERE \(condition) AND c = \(3)"
        #expect(query.sql == "SELECT $1 WHERE a = $2 AND b = $3 AND c = $4")
        #expect(query.values == ["0", "1", "2", "3"])
        let joined = ["x = \(5)" as PGQuery, "y = \(6)", "z = \(7)"].joined(separator: " OR ")
        #expect((condition + " OR " + joined).sql == "a = $1 AND b = $2 OR x = $3 OR y = $4 OR z = $5")
    }

    @Test func identifiersAreQuotedNames() {
        let query: PGQuery = "SELECT \(identifier: "name") FROM \(identifier: "odd \"table") WHERE id = \(1)"
        #expect(query.sql == #"SELECT "name" FROM "odd ""table" WHERE id = $1"#)
        #expect(query.values == ["1"])
    }

    @Test func storeValuesBindInPostgresTextFormat() {
        #expect(CalendarDate(iso: "2026-03-31")!.pgText == "2026-03-31")
        #expect(Period("2025/26 Q1")!.pgText == "2025/26 Q1")
        #expect(TaskStatus.atRisk.pgText == "at_risk")
        #expect([2, 13].pgText == #"{"2","13"}"#)
        #expect(["a b", #"c"d"#, #"e\f"#].pgText == #"{"a b","c\"d","e\\f"}"#)
        #expect([String?.none, "x"].pgText == #"{NULL,"x"}"#)
        #expect(([Int]?.none).pgText == nil)
    }
}

/// Rows read by column name against the test PostgreSQL, and errors that keep values out of logs.
@Suite("typed SQL: rows and errors")
struct SQLRowTests {
    static let database = try! TestPostgres.freshDatabase()

    /// A connection of each test's own: a connection serves one thread at a time.
    func connect() throws -> PGConnection { try PGConnection(conninfo: Self.database) }

    struct Sample: Decodable, Equatable {
        struct Detail: Decodable, Equatable {
            var serviceArea: String
            var count: Int
        }
        var indicatorID: Int
        var name: String
        var small: Int32
        var uid: UInt32
        var ratio: Double
        var flag: Bool
        var note: String?
        var due: CalendarDate
        var period: Period
        var status: TaskStatus
        var tags: [String]
        var postIDs: [Int]
        var detail: Detail
    }

    @Test func rowsDecodeByColumnNameWhateverTheOrder() throws {
        let db = try connect()
        let tags = ["a b", #"c"d"#, #"e\f"#, "NULL"]
        let rows = try db.rows(Sample.self, """
            SELECT \(tags)::text[] AS tags, \(TaskStatus.atRisk)::text AS status, \(Period("2025/26 Q2")!)::text AS period,
                   \(CalendarDate(iso: "2026-03-31")!)::date AS due, NULL::text AS note, \(true)::boolean AS flag,
                   \(2.5)::double precision AS ratio, \(UInt32(4_000_000_000))::bigint AS uid, \(Int32(7))::integer AS small,
                   \("Licensing")::text AS name, n AS indicator_id, \([2, 13])::integer[] AS post_ids,
                   json_build_object('serviceArea', \("Community Safety")::text, 'count', n) AS detail
            FROM generate_series(1, 2) n ORDER BY n
            """)
        #expect(rows.count == 2)
        #expect(rows.first == Sample(indicatorID: 1, name: "Licensing", small: 7, uid: 4_000_000_000, ratio: 2.5, flag: true, note: nil,
                                     due: CalendarDate(iso: "2026-03-31")!, period: Period("2025/26 Q2")!, status: .atRisk,
                                     tags: tags, postIDs: [2, 13], detail: .init(serviceArea: "Community Safety", count: 1)))
        #expect(rows.last?.detail.count == 2)
    }

    @Test func oneColumnRowsReadAsValues() throws {
        let db = try connect()
        #expect(try db.rows(Int.self, "SELECT generate_series(1, \(3)::integer)") == [1, 2, 3])
        #expect(try db.first(Int.self, "SELECT 1 WHERE false") == nil)
        #expect(try db.one(Int?.self, "SELECT NULL::integer") == nil)
        #expect(throws: PGError.self) { try db.one(Int.self, "SELECT 1 WHERE false") }
        let evil = "x'); DROP TABLE figures; --"
        #expect(try db.one(String.self, "SELECT \(evil)::text") == evil)
    }

    @Test func identifiersNameTablesAndColumns() throws {
        let db = try connect()
        let table = "odd \"table \(UUID().uuidString.prefix(8))"
        try db.execute("CREATE TABLE \(identifier: table) (\(identifier: "Value") integer)")
        try db.execute("INSERT INTO \(identifier: table) (\(identifier: "Value")) VALUES (\(5))")
        #expect(try db.one(Int.self, "SELECT \(identifier: "Value") FROM \(identifier: table)") == 5)
    }

    struct Present: Decodable {
        var present: Int
        var absent: String?
    }

    struct Required: Decodable {
        var value: Int
    }

    struct Dated: Decodable {
        var period: Period
    }

    @Test func aMissingColumnIsAnErrorNamingIt() throws {
        let db = try connect()
        let message = try failure { _ = try db.one(Present.self, "SELECT 1 AS present") }
        #expect(message.contains("\"absent\""), "\(message)")
    }

    @Test func aNullInANonOptionalPropertyIsAnErrorNamingTheColumn() throws {
        let db = try connect()
        let message = try failure { _ = try db.one(Required.self, "SELECT NULL::integer AS value") }
        #expect(message.contains("\"value\"") && message.contains("null"), "\(message)")
    }

    @Test func aValueOfTheWrongShapeIsNamedButNotQuoted() throws {
        let db = try connect()
        let number = try failure { _ = try db.one(Required.self, "SELECT 'secret-abc' AS value") }
        #expect(number.contains("\"value\"") && !number.contains("secret"), "\(number)")
        let period = try failure { _ = try db.one(Dated.self, "SELECT 'secret-xyz' AS period") }
        #expect(period.contains("\"period\"") && period.contains("Period") && !period.contains("secret"), "\(period)")
    }

    @Test func aFailedStatementKeepsItsCodeAndNotItsValues() throws {
        let db = try connect()
        do {
            try db.execute("SELECT \("secret-abc")::integer")
            Issue.record("the cast succeeded")
        } catch let error as PGError {
            #expect(error.sqlState == "22P02")
            #expect(error.description == "query failed: SQLSTATE 22P02 (ERROR)")
        }
    }

    @Test func aUniqueViolationIsAConflictNamingItsConstraint() throws {
        let db = try connect()
        let table = "u_\(UUID().uuidString.prefix(8).lowercased())"
        try db.execute("CREATE TABLE \(identifier: table) (code text CONSTRAINT \(identifier: table + "_code") UNIQUE)")
        try db.execute("INSERT INTO \(identifier: table) VALUES (\("secret-key"))")
        do {
            try db.execute("INSERT INTO \(identifier: table) VALUES (\("secret-key"))")
            Issue.record("the duplicate went in")
        } catch let error as PGError {
            #expect(error.isConflict)
            #expect(error.description == "query failed: SQLSTATE 23505 (ERROR), table public.\(table), constraint \(table)_code")
            #expect(!error.description.contains("secret"))
        }
    }

    @Test func anUnreachableServerIsAConnectionFailure() {
        #expect {
            try PGConnection(conninfo: "host=/nonexistent-bbcs-socket-dir dbname=none connect_timeout=1")
        } throws: { error in
            if case PGError.connectionFailed = error { return true }
            return false
        }
    }

    @Test func diagnosticsDescribeNamesOnly() {
        let full = PGDiagnostics(sqlState: "23503", severity: "ERROR", schema: "public", table: "figures", column: "indicator_id",
                                 dataType: "bigint", constraint: "figures_indicator_id_fkey")
        #expect(full.description
                == "SQLSTATE 23503 (ERROR), table public.figures, column indicator_id, type bigint, constraint figures_indicator_id_fkey")
        #expect(PGDiagnostics(sqlState: "40001").description == "SQLSTATE 40001")
        #expect(PGError.queryFailed(PGDiagnostics(sqlState: "40001")).isConflict)
    }

    /// The description of the `PGError.unexpectedResult` that `body` throws.
    func failure(_ body: () throws -> Void) throws -> String {
        do {
            try body()
        } catch let error as PGError {
            if case .unexpectedResult = error { return error.description }
            throw error
        }
        Issue.record("no error")
        return ""
    }
}
