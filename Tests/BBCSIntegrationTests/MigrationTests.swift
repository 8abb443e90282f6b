import BBCSClient
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

@Suite("migrations")
struct MigrationTests {
    /// Two daemons starting together on one empty database apply each migration once and
    /// import the plan once.
    @Test func twoDaemonsStartingTogetherMigrateOnce() throws {
        let database = try TestPostgres.freshDatabase()
        let first = Background { try TestDaemon(database: database) }
        let second = Background { try TestDaemon(database: database) }
        let a = try first.value(), b = try second.value()
        #expect(try a.client().call(PlanShowRequest()).counts.indicators == shippedPlan.indicators.count)
        #expect(try b.client().call(PlanShowRequest()).counts.indicators == shippedPlan.indicators.count)
        let db = try PGConnection(conninfo: database)
        let versions = try db.query("SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        let files = try Migration.load(from: packageRoot.appendingPathComponent("Schema"))
        #expect(versions.count == files.count)
        for row in 0..<versions.count { #expect(try versions.int(row, 1) == 1) }
        #expect(try db.query("SELECT count(*) FROM plans").int(0, 0) == 1)
    }

    @Test func migrationsAreNumberedAndOrdered() throws {
        let files = try Migration.load(from: packageRoot.appendingPathComponent("Schema"))
        #expect(!files.isEmpty)
        #expect(files.map(\.version) == files.map(\.version).sorted())
        #expect(Set(files.map(\.version)).count == files.count)
    }
}
