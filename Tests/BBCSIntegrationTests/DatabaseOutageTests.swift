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

    /// Refusals during an outage are logged as one line with libpq's text per change of state
    /// and count lines whose counts add up to the refusals, not a line each.
    @Test func anOutageIsLoggedOncePerChangeWithCountsThatAddUpToTheRefusals() throws {
        let cluster = try startedCluster("bbcs-test-outage-log")
        defer { removeCluster(cluster) }
        let daemon = try TestDaemon(database: cluster.conninfo)
        let client = try daemon.client()
        let write = FigureSubmitRequest(code: "ComS_011", period: Period("2025/26 Q1")!, value: 5, note: "outage log")
        try blocking { try await cluster.stop() }
        var refused = 0
        // Over a count interval (5 s), so at least one count line is written while the outage lasts.
        let until = ContinuousClock.now + .seconds(6)
        while ContinuousClock.now < until {
            if client.error(write)?.code == .unavailable { refused += 1 }
        }
        try blocking { try await cluster.start() }
        var stored = false
        for _ in 0..<200 where !stored {
            switch client.error(write)?.code {
            case nil: stored = true
            case .unavailable?: refused += 1; usleep(50_000)
            default: usleep(50_000)
            }
        }
        #expect(stored, "the daemon did not store a write after PostgreSQL came back")
        // The outage ends in the log a second after its last refusal at the earliest (or at the
        // next count interval, without further writes).
        for _ in 0..<100 where !daemon.process.log.contains("database reachable again") { usleep(100_000) }

        let lines = daemon.process.log.split(separator: "\n")
        let causes = lines.filter { $0.contains(" database unavailable ") && $0.contains("error=") }
        let counts = lines.filter { $0.contains("requests refused in the last") }
        let counted = counts.compactMap { line in line.split(separator: " ").first { $0.hasPrefix("refused=") }.flatMap { Int($0.dropFirst(8)) } }
        print("\(refused) refusals logged in \(causes.count) cause lines and \(counts.count) count lines: \(counted)")
        #expect(refused >= 100, "too few refusals to show anything: \(daemon.process.log.suffix(3000))")
        #expect(causes.count >= 1 && causes.count <= 4, "libpq's text once per change: \(causes)")
        #expect(counts.count >= 2, "a count line while the outage lasted and one when it ended")
        #expect(counted.reduce(0, +) == refused)
        #expect(lines.contains { $0.contains("database reachable again") && $0.contains("total=\(refused)") })
        let warnings = lines.filter { $0.contains(" warning ") }
        #expect(warnings.count < 20, "warnings over the outage: \(warnings.count) for \(refused) refusals")
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
func startedCluster(_ prefix: String) throws -> PostgresCluster {
    let cluster = PostgresCluster(directory: makeTemporaryDirectory(prefix))
    try blocking {
        try await cluster.initializeIfNeeded()
        try await cluster.start()
    }
    try cluster.createDatabaseIfNeeded()
    return cluster
}

func removeCluster(_ cluster: PostgresCluster) {
    _ = try? blocking { try await cluster.stop() }
    try? FileManager.default.removeItem(at: cluster.directory)
}

/// The postmaster's pid (the first line of postmaster.pid) and every backend's, for SIGSTOP.
func serverProcesses(_ cluster: PostgresCluster) throws -> [pid_t] {
    let file = try String(contentsOf: cluster.dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
    let postmaster = try #require(file.split(separator: "\n").first.flatMap { pid_t($0) })
    let db = try PGConnection(conninfo: cluster.conninfo)
    let backends = try db.rows(Int.self, "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()").map { pid_t($0) }
    return [postmaster] + backends
}
