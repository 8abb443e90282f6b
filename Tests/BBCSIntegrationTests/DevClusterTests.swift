import BBCSDevCluster
import BBCSPostgres
import BBCSTestSupport
import Foundation
import Testing

/// The private cluster of `bbcsd --dev`: every step may be repeated, as a restarted
/// development daemon repeats them.
@Suite("development cluster")
struct DevClusterTests {
    @Test func initializeStartAndStopAreIdempotent() async throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-devcluster"))
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        #expect(!cluster.isInitialized)
        try await cluster.initializeIfNeeded()
        let version = try String(contentsOf: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), encoding: .utf8)
        try await cluster.initializeIfNeeded()
        #expect(try String(contentsOf: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), encoding: .utf8) == version)

        #expect(try await cluster.start())
        #expect(try await !cluster.start(), "a second start reports the server was already running")
        #expect(await cluster.isRunning())
        try cluster.createDatabaseIfNeeded()
        try cluster.createDatabaseIfNeeded()
        #expect(try PGConnection(conninfo: cluster.conninfo).query("SELECT current_database()").string(0, 0) == cluster.database)

        try await cluster.stop()
        #expect(await !cluster.isRunning())
        try await cluster.stop()
        #expect(try await cluster.start(), "a stopped cluster starts again")
        try await cluster.stop()
    }

    @Test func aFailingToolReportsItsCommandAndOutput() async throws {
        let cluster = PostgresCluster(directory: makeTemporaryDirectory("bbcs-test-devcluster-bad"))
        defer { try? FileManager.default.removeItem(at: cluster.directory) }
        // A data folder that is not a cluster: pg_ctl refuses it.
        try FileManager.default.createDirectory(at: cluster.dataDirectory, withIntermediateDirectories: true)
        try "15\n".write(to: cluster.dataDirectory.appendingPathComponent("PG_VERSION"), atomically: true, encoding: .utf8)
        try await cluster.initializeIfNeeded()
        do {
            try await cluster.start()
            Issue.record("start succeeded on a folder that is not a cluster")
        } catch let failure as PostgresCluster.Failure {
            guard case .commandFailed(let command, let status, _) = failure else { Issue.record("unexpected \(failure)"); return }
            #expect(command.contains("pg_ctl"))
            #expect(status != 0)
        }
    }
}
