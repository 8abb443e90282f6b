import BBCSPostgres
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Streaming replication and crashes, for the failover tests and fault scenarios: a standby
/// made from a running cluster, its promotion, and a server killed as a crash kills it.
extension PostgresCluster {
    /// Makes a streaming standby of this running cluster in `directory` (pg_basebackup -R:
    /// its `primary_conninfo` points at this cluster's socket) and returns it, not started. It
    /// runs as the same account, on a socket of its own in `directory/run`.
    public func makeStandby(in directory: URL) async throws -> PostgresCluster {
        let standby = PostgresCluster(directory: directory, serverAccount: serverAccount)
        try standby.prepareFolders()
        try await standby.runServerCommand(await Self.binDirectory() + "/pg_basebackup", [
            "-D", standby.dataDirectory.path, "-R", "-X", "stream", "-c", "fast", "--no-sync",
            "-h", socketDirectory.path, "-U", superuser])
        return standby
    }

    /// Promotes this standby to a primary and waits until it takes writes.
    public func promote() async throws {
        try await pgCtl(["-w", "-t", "60", "promote"])
    }

    /// Kills the server with SIGKILL, the postmaster and every process it started at once, as
    /// a crash of the machine would end them; returns once they are gone. Nothing is flushed
    /// or shut down: `start` recovers from the WAL, as after a crash.
    public func kill() async throws {
        guard let postmaster = postmasterPID else { return }
        let processes = [postmaster] + Self.children(of: postmaster)
        for pid in processes { _ = Glibc.kill(pid, SIGKILL) }
        let deadline = ContinuousClock.now + .seconds(30)
        while processes.contains(where: Self.isAlive) {
            guard ContinuousClock.now < deadline else {
                throw Failure.commandFailed(command: "kill -9 \(postmaster)", status: -1, output: "the server's processes outlived 30 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // The postmaster may stay a zombie (no init reaps it in a container), and PostgreSQL
        // would take its pid in the lock files for a server still running.
        try? FileManager.default.removeItem(at: dataDirectory.appendingPathComponent("postmaster.pid"))
        for lock in (try? FileManager.default.contentsOfDirectory(atPath: socketDirectory.path)) ?? [] where lock.hasSuffix(".lock") {
            try? FileManager.default.removeItem(at: socketDirectory.appendingPathComponent(lock))
        }
    }

    /// Makes this primary's commits wait until a standby has flushed them
    /// (`synchronous_standby_names = '*'`), or stops them waiting; applies at once.
    public func requireSynchronousStandby(_ required: Bool) throws {
        let db = try PGConnection(conninfo: conninfo(database: "postgres"))
        try db.execute(required ? "ALTER SYSTEM SET synchronous_standby_names = '*'" : "ALTER SYSTEM RESET synchronous_standby_names")
        try db.execute("SELECT pg_reload_conf()")
    }

    /// The standbys streaming from this primary, and whether each is synchronous.
    public func standbys() throws -> [(name: String, synchronous: Bool)] {
        let db = try PGConnection(conninfo: conninfo(database: "postgres"))
        let result = try db.query("SELECT application_name, sync_state FROM pg_stat_replication ORDER BY 1")
        return try result.map { (try result.text($0, 0), result.string($0, 1) == "sync") }
    }

    /// True while the server is a standby replaying WAL.
    public func isInRecovery() throws -> Bool {
        try PGConnection(conninfo: conninfo(database: "postgres")).query("SELECT pg_is_in_recovery()").bool(0, 0)
    }

    /// The postmaster's pid from its lock file, when one is there.
    var postmasterPID: pid_t? {
        let file = dataDirectory.appendingPathComponent("postmaster.pid")
        return (try? String(contentsOf: file, encoding: .utf8))?.split(separator: "\n").first.flatMap { pid_t($0) }
    }

    /// The processes whose parent is `pid`, from /proc.
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { parent(of: $0) == pid }
    }

    /// The fields of /proc/PID/stat after the command name: state, then parent pid.
    private static func status(of pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: end)...].split(separator: " ")
    }

    private static func parent(of pid: pid_t) -> pid_t? { status(of: pid).flatMap { $0.count > 1 ? pid_t($0[1]) : nil } }

    /// Running, or stopped; not gone and not a zombie.
    private static func isAlive(_ pid: pid_t) -> Bool { status(of: pid).map { $0.first != "Z" && $0.first != "X" } ?? false }
}
