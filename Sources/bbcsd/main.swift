import ArgumentParser
import BBCSDevCluster
import BBCSProtocol
import BBCSServer
import Foundation
import Logging
import ServiceLifecycle

@main
struct BBCSD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bbcsd",
        abstract: "The bbcs business-plan daemon: PostgreSQL behind a Unix socket.",
        discussion: """
            Run with --dev DIR to get a private PostgreSQL cluster in DIR, created and
            started by the daemon (and stopped with it), with the shipped plan loaded: DIR
            must be your own folder that no one else may write to, and its socket is yours
            alone unless --socket-mode says otherwise. Run with --config FILE for a
            deployment. --migrate applies the schema's migrations and exits: run it as the
            schema's owner (migration_database, or database when that is unset); it also
            grants the role database logs in as what that role may do.

            Settings come from flags, then the environment (BBCS_ and the key in
            capitals: BBCS_POOL_SIZE=4, BBCS_ADMINS=alice,bob, BBCS_SOCKET_MODE=660),
            then the configuration file (TOML), then defaults. SIGHUP rereads them;
            SIGTERM stops gracefully. Under systemd the daemon takes its socket from
            socket activation and reports readiness, status and watchdog pings
            (Type=notify).

            Keys (as the configuration file writes them, with their defaults):
            \(Setting.helpList)

            Exit status: 0 stopped cleanly, 1 failure, 78 invalid configuration.
            """,
        version: bbcsVersion)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Embedded default: a private PostgreSQL cluster and the socket in this folder.", valueName: "dir"))
    var dev: String?

    @Option(help: .setting("socket", valueName: "path"))
    var socket: String?

    @Option(help: .setting("socket_mode", valueName: "mode"))
    var socketMode: String?

    @Option(help: .setting("database", valueName: "conninfo"))
    var database: String?

    @Option(help: .setting("migration_database", valueName: "conninfo"))
    var migrationDatabase: String?

    @Flag(help: "Apply the database migrations and the serving role's grants, then exit.")
    var migrate = false

    @Option(help: .setting("pool_size", valueName: "n"))
    var poolSize: String?

    @Option(help: .setting("schema_dir", valueName: "dir"))
    var schema: String?

    @Option(help: .setting("plan", valueName: "file"))
    var plan: String?

    @Option(help: .setting("log_level", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("admin"), help: .setting("admins", valueName: "login"))
    var admins: [String] = []

    @Option(help: .setting("figure_grace_days", valueName: "days"))
    var figureGraceDays: String?

    @Option(help: .setting("shutdown_timeout", valueName: "seconds"))
    var shutdownTimeout: String?

    @Option(help: .setting("request_timeout", valueName: "seconds"))
    var requestTimeout: String?

    @Option(help: .setting("lock_timeout", valueName: "seconds"))
    var lockTimeout: String?

    @Option(help: .setting("site_dir", valueName: "dir"))
    var siteDir: String?

    @Option(help: .setting("metrics_textfile", valueName: "file"))
    var metricsTextfile: String?

    @Option(help: ArgumentHelp("Run the clock from this instant (ISO 8601, e.g. 2026-07-01T09:00:00Z, or a day, 2026-03-04, "
                               + "taken as 09:00 in Europe/London), for rehearsals and tests.", valueName: "time"))
    var now: String?

    func validate() throws {
        if let now, Self.instant(now) == nil {
            throw ValidationError("--now must be an ISO 8601 instant with a zone (2026-07-01T09:00:00Z) or a day (2026-07-01)")
        }
    }

    /// `--now`'s instant: a full ISO 8601 time, or a day at 09:00 in Europe/London.
    static func instant(_ text: String) -> Date? {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_GB_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/London")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        return formatter.date(from: text + "T09:00")
    }

    /// The settings given as flags, by key, as typed.
    var flagValues: [String: String] {
        let values: [String: String?] = [
            "database": database, "migration_database": migrationDatabase, "pool_size": poolSize, "socket": socket,
            "socket_mode": socketMode, "schema_dir": schema, "plan": plan, "log_level": logLevel, "figure_grace_days": figureGraceDays, "shutdown_timeout": shutdownTimeout,
            "request_timeout": requestTimeout, "lock_timeout": lockTimeout, "metrics_textfile": metricsTextfile, "site_dir": siteDir,
        ]
        return values.compactMapValues { $0 }
    }

    func run() async throws {
        // A mail command that exits before reading its message must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { DaemonLogHandler(label: $0) }
        let logger = Logger(label: "bbcsd")
        var environment = ProcessInfo.processInfo.environment
        // Before any thread: libpq reads PGPASSFILE for every connection that names no passfile.
        if let passfile = SystemdCredentials.passfile(environment: environment) {
            setenv("PGPASSFILE", passfile, 1)
            environment["PGPASSFILE"] = passfile
        }
        let notifier = SystemdNotifier(environment: environment)

        var sources: SettingSources
        do {
            sources = try SettingSources(flags: flagValues, admins: admins, environment: environment, file: config.map(ConfigFile.disk))
        } catch {
            throw configurationError("\(error)")
        }
        let folder: DevelopmentFolder?
        do { folder = try dev.map { try DevelopmentFolder.claim(URL(fileURLWithPath: $0)) } } catch { throw fatal("\(error)") }
        if let folder {
            sources.development = .development(database: folder.cluster.runtimeConninfo, migrationDatabase: folder.cluster.ownerConninfo,
                                               directory: folder.directory, plan: Resources.locate(Resources.defaultPlan))
            // Whoever runs a development daemon administers it, and so does root.
            let runner = getpwuid(getuid())?.pointee.pw_name.map { String(cString: $0) }
            sources.addedAdmins += [runner, "root"].compactMap { $0 }
        }
        sources.clock = now.flatMap(Self.instant).map { start -> @Sendable () -> Date in
            let began = Date()
            return { start.addingTimeInterval(Date().timeIntervalSince(began)) }
        }

        let configuration: DaemonConfiguration
        do { configuration = try sources.configuration() } catch {
            throw configurationError("\(error)")
        }
        if folder != nil && configuration.initialPlan == nil {
            throw fatal("cannot find the shipped plan \(Resources.defaultPlan); give --plan FILE")
        }
        if let now { logger.notice("clock set", metadata: ["now": "\(now)"]) }

        let cluster = folder?.cluster
        if let cluster { try await startPrivateCluster(cluster, logger: logger) }
        // From here on, every way out stops the private cluster.
        var failure: Error?
        do {
            if migrate {
                let applied = try await SchemaMigration(configuration).run(logger: logger)
                print(applied.isEmpty ? "the schema was up to date" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
                if let cluster { try await cluster.stop() }
                return
            }
            let daemon = Daemon(configuration: configuration, logger: logger, notifier: notifier)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch is CancellationError {} catch { failure = error }
        if let cluster {
            logger.info("stopping private postgresql")
            do { try await cluster.stop() } catch { logger.error("postgresql did not stop", metadata: ["error": "\(error)"]) }
        }
        if let failure {
            logger.critical("daemon stopped", metadata: ["error": "\(failure)"])
            throw ExitCode.failure
        }
    }

    /// `--dev DIR`'s private cluster, created if need be and started; one already running
    /// there was left by a daemon that is gone (the folder is claimed), so it is adopted.
    /// Either way this daemon stops it when it stops.
    private func startPrivateCluster(_ cluster: PostgresCluster, logger: Logger) async throws {
        do {
            try await cluster.initializeIfNeeded()
        } catch let refusal as FolderRefusal {
            throw fatal("\(refusal)")
        } catch {
            throw fatal("the private PostgreSQL cluster was not created: \(error)")
        }
        logger.info("starting private postgresql", metadata: ["dir": "\(cluster.directory.path)"])
        do {
            if try await !cluster.start() {
                logger.notice("adopting the private postgresql left running by a daemon that is gone",
                              metadata: ["dir": "\(cluster.directory.path)"])
            }
            try await cluster.createDatabaseOffPool()
        } catch {
            try? await cluster.stop()
            throw fatal("the private PostgreSQL cluster did not start: \(error)")
        }
    }

    private func fatal(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("bbcsd: \(message)\n".utf8))
        return ExitCode.failure
    }

    /// EX_CONFIG: systemd's RestartPreventExitStatus=78 stops a restart loop over it.
    private func configurationError(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("bbcsd: \(message)\n".utf8))
        return ExitCode(78)
    }
}

extension ArgumentHelp {
    /// A flag's help: its key's documentation line from the table of settings.
    static func setting(_ key: String, valueName: String) -> ArgumentHelp {
        ArgumentHelp(Setting.named(key)?.doc ?? "", valueName: valueName)
    }
}
