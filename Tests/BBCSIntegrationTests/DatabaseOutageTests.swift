import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Testing

/// PostgreSQL stopped under a running daemon: requests that need it get `unavailable`, reads
/// answered from memory go on, the daemon stays up, and it serves again by itself once
/// PostgreSQL is back.
@Suite("database outage")
struct DatabaseOutageTests {
    @Test func theDaemonRidesOutAPostgresRestart() throws {
        // A cluster of its own: stopping the shared one would fail other tests.
        let cluster = try startedCluster("bbcs-test-outage")
        defer { removeCluster(cluster) }
        let daemon = try TestDaemon(database: cluster.conninfo)
        let client = try daemon.client()
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")).indicator.code == "ComS_011")

        try blocking { try await cluster.stop() }
        let error = client.error(PostListRequest())
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("SQL") == false)
        #expect(client.error(FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 1))?.code == .unavailable)
        // Reads answered from memory, and requests that need no database, still work, on the same connection.
        #expect(try client.call(IndicatorShowRequest(code: "ComS_011")).indicator.code == "ComS_011")
        #expect(try client.call(TaskListRequest()).tasks.count == shippedPlan.tasks.count)
        #expect(try client.call(HelloRequest()).server == "bbcsd")
        #expect(daemon.process.isRunning)

        try blocking { try await cluster.start() }
        var served = false
        for _ in 0..<100 where !served {
            served = (try? client.call(PostListRequest())) != nil
            if !served { usleep(100_000) }
        }
        #expect(served, "the daemon did not serve again after PostgreSQL came back")
        #expect(try client.call(TaskListRequest()).tasks.count == shippedPlan.tasks.count)
    }

    @Test func aDaemonStartedBeforePostgresWaitsForIt() throws {
        let cluster = try startedCluster("bbcs-test-late")
        defer { removeCluster(cluster) }
        try blocking { try await cluster.stop() }
        let starting = Background { try TestDaemon(database: cluster.conninfo) }
        usleep(1_500_000)
        try blocking { try await cluster.start() }
        let daemon = try starting.value()
        #expect(try daemon.client().call(PlanShowRequest()).code == shippedPlan.plan.code)
        #expect(daemon.process.log.contains("waiting for the database"))
    }
}

/// A private cluster with the bbcs database, for tests that stop and start PostgreSQL.
private func startedCluster(_ prefix: String) throws -> PostgresCluster {
    let cluster = PostgresCluster(directory: makeTemporaryDirectory(prefix))
    try blocking {
        try await cluster.initializeIfNeeded()
        try await cluster.start()
    }
    try cluster.createDatabaseIfNeeded()
    return cluster
}

private func removeCluster(_ cluster: PostgresCluster) {
    _ = try? blocking { try await cluster.stop() }
    try? FileManager.default.removeItem(at: cluster.directory)
}
