// What both benchmarks stand on: a private PostgreSQL cluster in a temporary folder and the
// real bbcsd built beside this program, serving a plan file, with the benchmark's own login
// as an administrator (so it may submit and correct every indicator's figures).
import BBCSClient
import BBCSDevCluster
import BBCSProtocol
import BBCSTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

func say(_ text: String) { FileHandle.standardError.write(Data("bench: \(text)\n".utf8)) }

/// Stops the benchmark with one sentence on standard error.
func fail(_ text: String) -> Never {
    say(text)
    exit(1)
}

/// The daemon's resident memory, read from /proc/PID/status, in kB.
struct DaemonMemory {
    /// VmRSS: resident now.
    var resident: Int?
    /// VmHWM: the most it has been resident since it started.
    var peak: Int?

    init(pid: pid_t) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { Int($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "") }
        }
        resident = field("VmRSS")
        peak = field("VmHWM")
    }

    static func text(_ kB: Int?) -> String { kB.map { "\($0 / 1024) MB" } ?? "unknown" }
}

/// A private cluster and the release bbcsd over it, stopped (daemon, then cluster) by `stop()`.
final class BenchDaemon {
    let work: URL
    let cluster: PostgresCluster
    let daemon: ChildProcess
    let socket: String
    /// A connection opened once the daemon answered `system.hello`.
    let client: Client

    /// Starts the cluster and the daemon importing `planFile`; waits (up to 30 minutes, the
    /// 100x plan's import included) until it answers. `environment` adds BBCS_* settings.
    init(work: URL, planFile: URL, maxConnections: Int = 100, now: String = "2026-07-10T09:00:00Z",
         extraArguments: [String] = [], environment: [String: String] = [:]) throws {
        self.work = work
        let cluster = PostgresCluster(directory: work.appendingPathComponent("postgres"))
        try blocking {
            try await cluster.initializeIfNeeded()
            try await cluster.start(maxConnections: maxConnections)
        }
        try cluster.createDatabaseIfNeeded()
        self.cluster = cluster
        socket = work.appendingPathComponent("bbcsd.sock").path
        let bbcsd = binDirectory.appendingPathComponent("bbcsd").path
        daemon = try ChildProcess(bbcsd,
                                  ["--database", cluster.runtimeConninfo, "--migration-database", cluster.ownerConninfo, "--socket", socket, "--plan", planFile.path, "--admin", currentLogin,
                                   "--schema", packageRoot.appendingPathComponent("Schema").path, "--log-level", "warning",
                                   "--now", now] + extraArguments,
                                  logPath: work.appendingPathComponent("bbcsd.log").path, environment: environment)
        let started = Date()
        client = Self.firstAnswer(daemon: daemon, socket: socket, started: started)
        say("\(bbcsd) serving after " + String(format: "%.1f s (plan import included)", Date().timeIntervalSince(started)))
    }

    /// A connection to the daemon once it answers `system.hello`.
    private static func firstAnswer(daemon: ChildProcess, socket: String, started: Date) -> Client {
        while true {
            if Date().timeIntervalSince(started) > 1800 { daemon.stop(); fail("bbcsd did not answer within 30 minutes") }
            if !daemon.isRunning { fail("bbcsd exited:\n\(daemon.log)") }
            if let c = try? Client(socketPath: socket), (try? c.call(HelloRequest())) != nil { return c }
            usleep(200_000)
        }
    }

    var memory: DaemonMemory { DaemonMemory(pid: daemon.pid) }

    func stop() {
        daemon.stop()
        let cluster = self.cluster
        _ = try? blocking { try await cluster.stop() }
    }
}
