import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Testing

/// The metrics after known work, read over the socket and from the textfile; health across a
/// stopped PostgreSQL; and a wedged pool withholding the systemd watchdog's pings.
@Suite("observability")
struct ObservabilityTests {
    @Test func metricsCountKnownWork() throws {
        let directory = makeTemporaryDirectory("bbcs-metrics")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bbcsd.toml")
        try "max_connections_per_uid = 3\nmetrics_interval = 1\n".write(to: config, atomically: true, encoding: .utf8)
        let textfile = directory.appendingPathComponent("bbcs.prom")
        let daemon = try TestDaemon(extraArguments: ["--config", config.path, "--metrics-textfile", textfile.path])

        do {
            let client = try daemon.client()
            for _ in 0..<25 { _ = try client.call(ObjectiveListRequest()) }
            for _ in 0..<3 { #expect(errorCode(try client.raw(#"{"id":1,"method":"no.such.method"}"#)) == "method_not_found") }
            #expect(client.error(IndicatorShowRequest(code: "NO_SUCH"))?.code == .notFound)
            // Three connections are this uid's cap: the fourth is refused.
            let held = try (0..<2).map { _ in try daemon.client() }
            for other in held { _ = try other.call(HelloRequest()) }
            #expect(try daemon.client().error(HelloRequest())?.code == .tooManyConnections)
        }
        // The connections above are closed: bbcsctl gets one.
        var text = ""
        try waitFor {
            text = try daemon.ctl(["metrics"]).out
            return value(text, "bbcs_connections_open") == 1
        }
        #expect(value(text, #"bbcs_requests_total{method="objective.list",outcome="ok"}"#) == 25)
        #expect(value(text, #"bbcs_request_duration_seconds_count{method="objective.list"}"#) == 25)
        #expect(value(text, #"bbcs_requests_total{method="invalid",outcome="method_not_found"}"#) == 3)
        #expect(value(text, #"bbcs_requests_total{method="indicator.show",outcome="not_found"}"#) == 1)
        #expect(value(text, #"bbcs_connections_refused_total{limit="max_connections_per_uid"}"#) == 1)
        #expect(value(text, "bbcs_pool_size") == 4)
        #expect(value(text, "bbcs_database_reachable") == 1)
        #expect(value(text, "bbcs_health") == 0)
        #expect(value(text, "bbcs_change_lag") == 0)
        // The scheduler runs once the socket listens and records the shipped plan's reminders due
        // (on a loaded machine that first run can take a while).
        let listening = ContinuousClock.now
        do {
            try waitFor(timeout: .seconds(90)) {
                text = try daemon.ctl(["metrics"]).out
                return (value(text, "bbcs_scheduler_run_duration_seconds_count") ?? 0) >= 1
            }
        } catch {
            Issue.record("the scheduler never finished a run: \(daemon.process.log.suffix(3000))")
            throw error
        }
        print("metrics: the scheduler's first run was counted \(ContinuousClock.now - listening) after the counts above")
        #expect((value(text, "bbcs_reminders_created_total") ?? 0) >= 1, "\(daemon.process.log.suffix(2000))")
        do {
            let watcher = try daemon.client()
            #expect(errorCode(try watcher.raw(#"{"id":1,"method":"watch.subscribe"}"#)) == nil)
            #expect(value(try daemon.ctl(["metrics"]).out, "bbcs_watchers_connected") == 1)
        }
        try waitFor { value(try daemon.ctl(["metrics"]).out, "bbcs_watchers_connected") == 0 }
        for family in DaemonMetrics.families where text.contains("\n\(family.name)") {
            #expect(text.contains("# HELP \(family.name) \(family.help)\n# TYPE \(family.name) \(family.kind.rawValue)\n"), "\(family.name)")
        }

        // The textfile: the same text, rewritten every second, never half written.
        try waitFor(timeout: .seconds(10)) {
            let file = (try? String(contentsOf: textfile, encoding: .utf8)) ?? ""
            return value(file, #"bbcs_requests_total{method="system.metrics",outcome="ok"}"#) != nil
        }
        let file = try String(contentsOf: textfile, encoding: .utf8)
        #expect(value(file, #"bbcs_requests_total{method="objective.list",outcome="ok"}"#) == 25)
        #expect(file.hasSuffix("\n"))
        let attributes = try FileManager.default.attributesOfItem(atPath: textfile.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    /// The README's table of metrics is written by hand: it must name each with its type and meaning.
    @Test func readmeListsEveryMetric() throws {
        let readme = try String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for family in DaemonMetrics.families {
            #expect(readme.contains("| `\(family.name)` | \(family.kind.rawValue) | \(family.help) |"), "\(family.name)'s row is missing or out of date")
        }
    }

    /// `bbcsctl health` is for anyone; `bbcsctl metrics` for administrators only.
    @Test(.enabled(if: TestAccounts.available, "needs root to create a test account and run setpriv"))
    func anyoneMayAskHealthButOnlyAdministratorsReadMetrics() throws {
        let daemon = try TestDaemon()
        let ctl = daemon.directory.appendingPathComponent("bbcsctl").path
        try PermissionTests.copyExecutable(binDirectory.appendingPathComponent("bbcsctl").path, to: ctl)
        let stranger = try TestAccounts.ensure("bbcs-t-stranger")
        let health = try TestAccounts.run(stranger, ctl, socket: daemon.socketPath, ["health"])
        #expect(health.status == 0, "\(health.err)")
        #expect(health.out == "ok\n")
        let metrics = try TestAccounts.run(stranger, ctl, socket: daemon.socketPath, ["metrics"])
        #expect(metrics.status == 77, "\(metrics.out)")
        #expect(metrics.out.isEmpty)
        #expect(metrics.err.hasPrefix("bbcsctl: "), "\(metrics.err)")
        print("metrics as a stranger: \(metrics.err)")
    }

    /// A stopped PostgreSQL is failing within seconds, with since when; ok again once it is back,
    /// with the outage counted as a reconnect.
    @Test func healthFollowsAStoppedPostgres() throws {
        let cluster = try startedCluster("bbcs-test-health")
        defer { removeCluster(cluster) }
        let daemon = try TestDaemon(database: cluster.conninfo)
        let ok = try daemon.ctl(["health"])
        #expect(ok.status == 0 && ok.out == "ok\n", "\(ok)")

        try blocking { try await cluster.stop() }
        let stopped = ContinuousClock.now
        var failing = (status: Int32(0), out: "", err: "")
        try waitFor(timeout: .seconds(10)) {
            failing = try daemon.ctl(["health"])
            return failing.status == 2
        }
        print("health: failing \(ContinuousClock.now - stopped) after PostgreSQL stopped: \(failing.out)")
        #expect(failing.out.hasPrefix("failing\n  database unreachable since "), "\(failing.out)")
        #expect(failing.out.split(separator: "\n").count == 2, "one line per reason: \(failing.out)")
        let json = try daemon.ctl(["--json", "health"])
        #expect(json.status == 2)
        #expect(json.out.contains(#""status" : "failing""#), "\(json.out)")
        #expect(value(try daemon.ctl(["metrics"]).out, "bbcs_database_reachable") == 0)
        #expect(value(try daemon.ctl(["metrics"]).out, "bbcs_health") == 2)

        try blocking { try await cluster.start() }
        let started = ContinuousClock.now
        try waitFor(timeout: .seconds(20)) { try daemon.ctl(["health"]).status == 0 }
        print("health: ok \(ContinuousClock.now - started) after PostgreSQL started")
        let text = try daemon.ctl(["metrics"]).out
        #expect(value(text, "bbcs_database_reachable") == 1)
        #expect(value(text, "bbcs_database_reconnects_total") == 1)
    }

    /// A pool whose connections are all held by statements a frozen PostgreSQL never answers
    /// (a request_timeout long enough not to cut them off), while requests are turned away:
    /// health says the pool is wedged and the watchdog goes unpinged until it moves again.
    @Test func aWedgedPoolStopsTheWatchdogPings() throws {
        let cluster = try startedCluster("bbcs-test-wedged")
        defer { removeCluster(cluster) }
        let directory = makeTemporaryDirectory("bbcs-wedged")
        defer { try? FileManager.default.removeItem(at: directory) }
        let notify = try NotifySocket(directory: directory)
        let config = directory.appendingPathComponent("bbcsd.toml")
        try "pool_wait_timeout = 1\n".write(to: config, atomically: true, encoding: .utf8)
        // Two connections, one of them kept for the scheduler: one request fills the pool.
        let daemon = try TestDaemon(database: cluster.conninfo,
                                    extraArguments: ["--config", config.path, "--pool-size", "2", "--request-timeout", "120"],
                                    environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        try notify.wait(for: "STATUS=ok")
        try notify.wait(for: "WATCHDOG=1", skipping: notify.messages.count)

        let pids = try serverProcesses(cluster)
        for pid in pids { kill(pid, SIGSTOP) }
        var thawed = false
        let thaw = { if !thawed { for pid in pids { kill(pid, SIGCONT) }; thawed = true } }
        defer { thaw() }
        let socket = daemon.socketPath
        let holder = Background { try Client(socketPath: socket).error(PostListRequest()) }
        usleep(300_000)
        // Turned away after the pool's wait (1 s): nothing has come back meanwhile.
        #expect(try daemon.client().error(PostListRequest())?.code == .unavailable)
        var wedged = ""
        try waitFor(timeout: .seconds(10)) {
            wedged = try daemon.ctl(["health"]).out
            return wedged.contains("pool wedged")
        }
        #expect(wedged.hasPrefix("failing\n"), "\(wedged)")
        try notify.wait(for: "STATUS=failing: ", skipping: notify.messages.count)
        let mark = notify.messages.count
        sleep(3)
        let meanwhile = Array(notify.drain().dropFirst(mark))
        print("watchdog: \(meanwhile.count) messages in 3 s of a wedged pool: \(Set(meanwhile))")
        #expect(meanwhile.contains { $0.contains("pool wedged") }, "\(meanwhile)")
        #expect(!meanwhile.contains("WATCHDOG=1"), "the watchdog was pinged while the pool was wedged")

        thaw()
        // It held the connection, or waited behind the change stream's read that did: answered either way.
        print("watchdog: the first request on the frozen server was answered \(try holder.value()?.code.rawValue ?? "ok")")
        try notify.wait(for: "WATCHDOG=1", skipping: notify.messages.count)
        try waitFor { try daemon.ctl(["health"]).status == 0 }
    }
}

/// The value of one series (name and labels, as rendered) in Prometheus text, if present.
func value(_ text: String, _ series: String) -> Double? {
    text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
}
