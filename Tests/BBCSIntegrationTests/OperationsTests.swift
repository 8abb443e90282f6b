import BBCSClient
import BBCSCore
import BBCSPostgres
import BBCSProtocol
import BBCSServer
import BBCSTestSupport
import Foundation
import Testing

/// Running bbcsd as an IT team would: layered settings, reload, graceful stop, install.
@Suite("operations")
struct OperationsTests {
    var bbcsd: String { binDirectory.appendingPathComponent("bbcsd").path }

    /// Starts bbcsd with `arguments` and `environment` and waits for `socket` to answer.
    func start(_ arguments: [String], environment: [String: String], socket: String, log: URL) throws -> ChildProcess {
        let process = try ChildProcess(bbcsd, arguments, logPath: log.path, environment: environment)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw HarnessError(description: "bbcsd exited: \(process.log)") }
            if let client = try? Client(socketPath: socket), (try? client.call(HelloRequest())) != nil { return process }
            usleep(50_000)
        }
        process.stop()
        throw HarnessError(description: "bbcsd did not answer on \(socket): \(process.log)")
    }

    @Test func flagsOverrideEnvironmentOverridesFileOverridesDefaults() throws {
        let dir = makeTemporaryDirectory("bbcs-layers")
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try TestPostgres.freshDatabase()
        let config = dir.appendingPathComponent("bbcsd.toml")
        let schema = packageRoot.appendingPathComponent("Schema").path
        let (fileSocket, envSocket, flagSocket) = (dir.path + "/file.sock", dir.path + "/env.sock", dir.path + "/flag.sock")
        try """
            database = "\(TestPostgres.runtime(database))"
            migration_database = "\(TestPostgres.owner(database))"
            socket = "\(fileSocket)"
            schema_dir = "\(schema)"
            log_level = "warning"
            """.write(to: config, atomically: true, encoding: .utf8)
        let log = dir.appendingPathComponent("log")

        let fromFlag = try start(["--config", config.path, "--socket", flagSocket], environment: ["BBCS_SOCKET": envSocket],
                                 socket: flagSocket, log: log)
        #expect(fromFlag.stop() == 0)
        let fromEnvironment = try start(["--config", config.path], environment: ["BBCS_SOCKET": envSocket, "BBCS_LOG_LEVEL": "debug"],
                                        socket: envSocket, log: log)
        #expect(fromEnvironment.stop() == 0)
        // BBCS_LOG_LEVEL=debug beat the file's "warning": each request was logged.
        #expect(fromEnvironment.log.contains("request elapsed="))
        let fromFile = try start(["--config", config.path], environment: [:], socket: fileSocket, log: log)
        #expect(fromFile.stop() == 0)
        // The file's socket_mode is unset: the default 0660 applies.
        var info = stat()
        let modeSocket = dir.path + "/mode.sock"
        let withDefaults = try start(["--config", config.path, "--socket", modeSocket], environment: [:], socket: modeSocket, log: log)
        stat(modeSocket, &info)
        #expect(info.st_mode & 0o777 == 0o660)
        #expect(withDefaults.stop() == 0)
    }

    @Test(arguments: [
        (["--pool-size", "0"], [:], "--pool-size: pool_size: must be from 1 to 256"),
        (["--socket-mode", "999"], [:], "--socket-mode"),
        (["--log-level", "loud"], [:], "--log-level"),
        ([], ["BBCS_POOL_SIZE": "lots"], "environment variable BBCS_POOL_SIZE: pool_size: expected a whole number"),
        ([], ["BBCS_FIGURE_GRACE_DAYS": "-1"], "environment variable BBCS_FIGURE_GRACE_DAYS"),
        ([], ["BBCS_LOG_LEVEL": "chatty"], "environment variable BBCS_LOG_LEVEL"),
    ] as [([String], [String: String], String)])
    func invalidFlagsAndEnvironmentStopWithStatus78(_ arguments: [String], _ environment: [String: String], _ message: String) throws {
        let database = try TestPostgres.freshDatabase()
        let result = try runProgram(bbcsd, ["--database", database] + arguments, environment: environment)
        #expect(result.status == 78, "\(result.err)")
        #expect(result.err.contains(message), "\(result.err)")
    }

    @Test func invalidFileStopsWithStatus78() throws {
        let dir = makeTemporaryDirectory("bbcs-badconfig")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("bbcsd.toml")
        try "database = \"host=/nowhere\"\npool_size = 0\n".write(to: config, atomically: true, encoding: .utf8)
        let result = try runProgram(bbcsd, ["--config", config.path])
        #expect(result.status == 78)
        #expect(result.err.contains("\(config.path):2: pool_size:"), "\(result.err)")
        let none = try runProgram(bbcsd, [])
        #expect(none.status == 78 && none.err.contains("no database"), "\(none.err)")
    }

    @Test func reloadAppliesWhatItCanAndKeepsServing() throws {
        let dir = makeTemporaryDirectory("bbcs-reload")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("bbcsd.toml")
        try "log_level = \"info\"\nfigure_grace_days = 30\n".write(to: config, atomically: true, encoding: .utf8)
        let daemon = try TestDaemon(plan: nil, extraArguments: ["--config", config.path, "--log-level", "info"])
        let client = try daemon.client()
        _ = try client.call(IndicatorListRequest())
        #expect(!daemon.process.log.contains("request elapsed="))

        // The flag sets log_level, so the file's new level must not win; its admins apply, and
        // the line limit needs a restart.
        try """
            log_level = "debug"
            admins = ["daemon"]
            max_line_bytes = 2048
            """.write(to: config, atomically: true, encoding: .utf8)
        kill(daemon.process.pid, SIGHUP)
        try waitFor { daemon.process.log.contains("configuration reloaded") }
        #expect(daemon.process.log.contains("setting changed; restart bbcsd to apply it key=max_line_bytes"))
        #expect(try client.call(PostHoldersRequest(post: "admin")).holders.map(\.login).contains("daemon"))
        _ = try client.call(IndicatorListRequest())
        #expect(!daemon.process.log.contains("request elapsed="))

        // An invalid file is reported and changes nothing; the same connection still works.
        try "pool_size = many\n".write(to: config, atomically: true, encoding: .utf8)
        kill(daemon.process.pid, SIGHUP)
        try waitFor { daemon.process.log.contains("configuration not reloaded") }
        #expect(daemon.process.log.contains("pool_size"))
        #expect(try client.call(HelloRequest()).server == "bbcsd")
    }

    @Test func reloadChangesTheLogLevelWhenNoFlagSetsIt() throws {
        let dir = makeTemporaryDirectory("bbcs-reload-level")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("bbcsd.toml")
        try "log_level = \"info\"\n".write(to: config, atomically: true, encoding: .utf8)
        let database = try TestPostgres.freshDatabase()
        let socket = dir.path + "/bbcsd.sock"
        let process = try start(["--config", config.path] + TestPostgres.daemonArguments(database) + ["--socket", socket, "--admin", currentLogin,
                                 "--schema", packageRoot.appendingPathComponent("Schema").path],
                                environment: [:], socket: socket, log: dir.appendingPathComponent("log"))
        defer { process.stop() }
        let client = try Client(socketPath: socket)
        _ = try client.call(IndicatorListRequest())
        try "log_level = \"debug\"\n".write(to: config, atomically: true, encoding: .utf8)
        kill(process.pid, SIGHUP)
        try waitFor { process.log.contains("configuration reloaded") }
        _ = try client.call(IndicatorListRequest())
        try waitFor { process.log.contains("request elapsed=") && process.log.contains("method=indicator.list") }
    }

    /// SIGTERM lets a request held up inside PostgreSQL finish and answers it, refuses new
    /// connections, and exits 0.
    @Test func gracefulStopFinishesTheRequestInFlight() throws {
        // Deadlines long enough that the held request waits for the lock, not for its timeout.
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z", "--request-timeout", "120", "--lock-timeout", "120"])
        let blocker = try PGConnection(conninfo: daemon.database)
        try blocker.query("BEGIN")
        try blocker.query("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        let socket = daemon.socketPath
        let inFlight = Background {
            try Client(socketPath: socket).call(FigureSubmitRequest(code: "ComS_014", period: Period("2025/26 Q1")!, value: 10))
        }
        try waitUntilBlocked(blocker)
        kill(daemon.process.pid, SIGTERM)
        try waitFor { daemon.process.log.contains("stopping") }
        #expect(daemon.process.isRunning)
        #expect((try? Client(socketPath: socket).call(HelloRequest())) == nil)
        try blocker.query("COMMIT")
        let answer = try inFlight.value()
        #expect(answer.status.figure?.value == 10)
        #expect(daemon.process.wait() == 0)
        #expect(daemon.process.log.contains("stopped"))
        // One line at info for the change, with who and what.
        #expect(daemon.process.log.contains("change method=figure.submit object=ComS_014 uid=\(getuid()) user=\(currentLogin)"))
    }

    @Test func aStaleSocketFileIsReplacedAndALiveOneIsLeftAlone() throws {
        let first = try TestDaemon(plan: nil)
        let path = first.socketPath
        // A second daemon on the same path refuses to start and leaves the first serving.
        let database = try TestPostgres.freshDatabase()
        let refused = try runProgram(bbcsd, TestPostgres.daemonArguments(database) + ["--socket", path, "--schema",
                                             packageRoot.appendingPathComponent("Schema").path])
        #expect(refused.status != 0)
        #expect(refused.err.contains("another daemon is answering on \(path)"), "\(refused.err)")
        #expect(try Client(socketPath: path).call(HelloRequest()).server == "bbcsd")
        // Killed without cleaning up, the first leaves its socket file behind; the next one replaces it.
        #expect(first.process.stop(SIGKILL) == 128 + SIGKILL)
        #expect(FileManager.default.fileExists(atPath: path))
        let log = first.directory.appendingPathComponent("second.log")
        let second = try start(TestPostgres.daemonArguments(database) + ["--socket", path, "--admin", currentLogin, "--schema",
                                packageRoot.appendingPathComponent("Schema").path], environment: [:], socket: path, log: log)
        #expect(second.stop() == 0)
    }

    /// A request still held (by a lock) at shutdown_timeout is cancelled and its client
    /// answered, nothing stored, before the daemon exits.
    @Test func aStopThatOutlastsTheTimeoutCancelsAndAnswersTheRequest() throws {
        let daemon = try TestDaemon(extraArguments: ["--now", "2026-07-10T09:00:00Z", "--shutdown-timeout", "1",
                                                     "--request-timeout", "60", "--lock-timeout", "60"])
        let blocker = try PGConnection(conninfo: daemon.database)
        try blocker.query("BEGIN")
        try blocker.query("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
        let socket = daemon.socketPath
        // Six, on a pool of four with one kept for the scheduler: three held by the lock, three
        // waiting for a connection; each is answered.
        let inFlight = (0..<6).map { _ in
            Background {
                try Client(socketPath: socket).error(FigureSubmitRequest(code: "ComS_014", period: Period("2025/26 Q1")!, value: 10))
            }
        }
        try waitFor {
            try blocker.query("SELECT pg_stat_clear_snapshot()")
            return try blocker.query("""
                SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
                """).int(0, 0) >= 3
        }
        usleep(300_000)  // the other three reach the pool's queue
        let stopped = ContinuousClock.now
        kill(daemon.process.pid, SIGTERM)
        let answers = try inFlight.map { try $0.value() }
        print("shutdown: the held requests were answered \(answers.map { $0?.code.rawValue ?? "ok" }) after \(ContinuousClock.now - stopped) (shutdown_timeout 1 s)")
        for answer in answers {
            #expect(answer?.code == .unavailable, "\(String(describing: answer))")
            #expect(answer?.data?["reason"] == "shutdown")
        }
        #expect(daemon.process.wait() == 0)
        #expect(ContinuousClock.now - stopped < .seconds(10))
        #expect(daemon.process.log.contains("requests still running at the shutdown timeout were cancelled"))
        try blocker.query("ROLLBACK")
        #expect(try blocker.query("""
            SELECT count(*) FROM figures f JOIN indicators i ON i.id = f.indicator_id WHERE i.code = 'ComS_014' AND f.period = '2025/26 Q1'
            """).int(0, 0) == 0)
    }

    @Test func bothProgramsReportTheirVersion() throws {
        #expect(try runProgram(bbcsd, ["--version"]).out == "\(bbcsVersion)\n")
        #expect(try runProgram(binDirectory.appendingPathComponent("bbcsctl").path, ["--version"]).out == "\(bbcsVersion)\n")
    }

    /// `make install` into a temporary DESTDIR stages every file a package needs, with the
    /// units naming the real prefix; installed under a temporary prefix, the units verify
    /// cleanly and the installed daemon runs with the installed example configuration
    /// (database and socket from the environment).
    @Test(.timeLimit(.minutes(15))) func installPutsEveryFileInPlaceAndTheInstalledDaemonRuns() throws {
        let staged = makeTemporaryDirectory("bbcs-destdir")
        defer { try? FileManager.default.removeItem(at: staged) }
        func install(_ variables: [String]) throws {
            let make = try runProgram("/usr/bin/make", ["-C", packageRoot.path, "install", "CONFIGURATION=debug", "SCRATCH=.build-install"]
                                      + variables)
            #expect(make.status == 0, "\(make.out.suffix(3000))\(make.err.suffix(3000))")
        }
        try install(["PREFIX=/usr", "SYSCONFDIR=/etc", "DESTDIR=\(staged.path)"])
        let migrations = try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Schema").path)
            .filter { $0.hasSuffix(".sql") }.map { "usr/share/bbcs/Schema/\($0)" }
        #expect(migrations.count >= 3)
        let expected = migrations + [
            "usr/sbin/bbcsd", "usr/bin/bbcsctl", "etc/bbcs/bbcsd.toml",
            "usr/share/bbcs/Config/plans/broxtowe-community-safety-2025-2028.json", "usr/share/bbcs/Config/plans/FORMAT.md",
            "usr/lib/systemd/system/bbcsd.service", "usr/lib/systemd/system/bbcsd.socket",
            "usr/lib/sysusers.d/bbcs.conf", "usr/lib/tmpfiles.d/bbcs.conf",
            "usr/share/man/man8/bbcsd.8", "usr/share/man/man1/bbcsctl.1",
            "usr/share/bash-completion/completions/bbcsctl", "usr/share/bash-completion/completions/bbcsd",
            "usr/share/zsh/site-functions/_bbcsctl", "usr/share/zsh/site-functions/_bbcsd",
            "usr/share/doc/bbcs/README.md", "usr/share/doc/bbcs/bbcsd-remote-postgresql.conf", "usr/share/doc/bbcs/bbcsd-mail-smtp.conf", "usr/share/doc/bbcs/bbcsd-password.conf",
            "usr/share/doc/bbcs/bbcsd-site.conf", "usr/share/doc/bbcs/nginx-bbcs-site.conf",
        ]
        let installed = Set(FileManager.default.enumerator(atPath: staged.path)!.compactMap { $0 as? String }.filter {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: staged.appendingPathComponent($0).path, isDirectory: &isDirectory) && !isDirectory.boolValue
        })
        #expect(installed == Set(expected), "unexpected: \(installed.subtracting(expected)); missing: \(Set(expected).subtracting(installed))")
        let staging = try String(contentsOfFile: staged.path + "/usr/lib/systemd/system/bbcsd.service", encoding: .utf8)
        #expect(staging.contains("ExecStart=/usr/sbin/bbcsd --config /etc/bbcs/bbcsd.toml"))
        #expect(try String(contentsOfFile: staged.path + "/usr/share/man/man1/bbcsctl.1", encoding: .utf8).contains("figure"))
        #expect(try String(contentsOfFile: staged.path + "/usr/share/bash-completion/completions/bbcsctl", encoding: .utf8).contains("bbcsctl"))

        let root = makeTemporaryDirectory("bbcs-install")
        defer { try? FileManager.default.removeItem(at: root) }
        let prefix = root.appendingPathComponent("usr").path, etc = root.appendingPathComponent("etc").path
        try install(["PREFIX=\(prefix)", "SYSCONFDIR=\(etc)"])
        let service = try String(contentsOfFile: prefix + "/lib/systemd/system/bbcsd.service", encoding: .utf8)
        #expect(service.contains("ExecStart=\(prefix)/sbin/bbcsd --config \(etc)/bbcs/bbcsd.toml"))

        let verify = try runProgram("/usr/bin/systemd-analyze", ["verify", prefix + "/lib/systemd/system/bbcsd.socket",
                                                                 prefix + "/lib/systemd/system/bbcsd.service"],
                                    environment: ["MANPATH": prefix + "/share/man"])
        #expect(verify.status == 0 && (verify.out + verify.err).isEmpty, "\(verify.out)\(verify.err)")

        let database = try TestPostgres.freshDatabase()
        let socket = root.appendingPathComponent("bbcsd.sock").path
        let daemon = try start(["--config", etc + "/bbcs/bbcsd.toml"],
                               environment: ["BBCS_DATABASE": TestPostgres.runtime(database), "BBCS_MIGRATION_DATABASE": TestPostgres.owner(database),
                                             "BBCS_SOCKET": socket, "BBCS_ADMINS": currentLogin],
                               socket: socket, log: root.appendingPathComponent("bbcsd.log"))
        defer { daemon.stop() }
        let ctl = prefix + "/bin/bbcsctl"
        let imported = try runProgram(ctl, ["--socket", socket, "plan", "import",
                                            prefix + "/share/bbcs/Config/plans/broxtowe-community-safety-2025-2028.json"])
        #expect(imported.status == 0, "\(imported.err)")
        let shown = try runProgram(ctl, ["--socket", socket, "plan", "show"])
        #expect(shown.out.contains("Community Safety"), "\(shown.err)")
    }
}

/// Waits until a statement of another session is waiting for a lock `holder` holds: the
/// daemon has the request in hand.
func waitUntilBlocked(_ holder: PGConnection) throws {
    try waitFor {
        // Inside the holder's transaction the activity view keeps what it showed at its first
        // look: each poll takes a fresh one.
        try holder.query("SELECT pg_stat_clear_snapshot()")
        return try holder.query("""
            SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
            """).int(0, 0) > 0
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes.
func waitFor(timeout: Duration = .seconds(20), _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw HarnessError(description: "condition not met within \(timeout)") }
        usleep(50_000)
    }
}
