import ArgumentParser
import BBCSDevCluster
import BBCSPostgres
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
            Run with --dev DIR to get a private PostgreSQL cluster in DIR, created and started by the
            daemon, with the shipped plan loaded. Run with --config FILE for a deployment.

            Settings come from flags, then the environment (BBCS_DATABASE, BBCS_POOL_SIZE, BBCS_SOCKET,
            BBCS_SOCKET_MODE, BBCS_LOG_LEVEL, BBCS_ADMINS, ...: BBCS_ and the key in capitals), then
            the configuration file, then defaults. SIGHUP rereads them; SIGTERM stops gracefully.
            Under systemd the daemon takes its socket from socket activation and reports readiness,
            status and watchdog pings (Type=notify).

            Exit status: 0 stopped cleanly, 1 failure, 78 invalid configuration.
            """,
        version: bbcsVersion)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Embedded default: a private PostgreSQL cluster and the socket in this folder.", valueName: "dir"))
    var dev: String?

    @Option(help: ArgumentHelp("Socket path to listen on when not socket-activated.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Socket file mode in octal (default 660; 666 with --dev).", valueName: "mode"))
    var socketMode: String?

    @Option(help: ArgumentHelp("libpq connection string.", valueName: "conninfo"))
    var database: String?

    @Option(help: ArgumentHelp("Most database connections open at once.", valueName: "n"))
    var poolSize: String?

    @Option(help: ArgumentHelp("Folder of SQL migrations (default: the Schema folder shipped with bbcs).", valueName: "dir"))
    var schema: String?

    @Option(help: ArgumentHelp("Plan file to import at start when the database holds no plan.", valueName: "file"))
    var plan: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("admin"),
            help: ArgumentHelp("Make this Unix login an administrator at start (repeatable; adds to the configured admins).",
                               valueName: "login"))
    var admins: [String] = []

    @Option(help: ArgumentHelp("Days after a period ends before its figure is due (default 30).", valueName: "days"))
    var figureGraceDays: String?

    @Option(help: ArgumentHelp("Seconds SIGTERM waits for requests in flight (default 10).", valueName: "seconds"))
    var shutdownTimeout: String?

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

    /// The settings given as flags, as one layer.
    func flagLayer() throws -> ConfigFile {
        let values: [String: String?] = [
            "database": database, "pool_size": poolSize, "socket": socket, "socket_mode": socketMode, "schema_dir": schema,
            "plan": plan, "log_level": logLevel, "figure_grace_days": figureGraceDays, "shutdown_timeout": shutdownTimeout,
        ]
        let flags = ["schema_dir": "--schema"]
        return try ConfigFile.layer(values.compactMapValues { $0 }) { flags[$0] ?? "--" + $0.replacingOccurrences(of: "_", with: "-") }
    }

    func run() async throws {
        // A mail command that exits before reading its message must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { DaemonLogHandler(label: $0) }
        let logger = Logger(label: "bbcsd")
        let environment = ProcessInfo.processInfo.environment
        let notifier = SystemdNotifier(environment: environment)

        let activated: CInt?
        let flagLayer: ConfigFile, environmentLayer: ConfigFile
        do {
            activated = try SocketActivation.listeningDescriptor(environment: environment)
            flagLayer = try self.flagLayer()
            environmentLayer = try ConfigFile.environment(environment)
        } catch {
            throw configurationError("\(error)")
        }

        var cluster: PostgresCluster?
        var devLayer = ConfigFile()
        var devAdmins: [String] = []
        if let dev {
            let dir = URL(fileURLWithPath: dev).standardizedFileURL
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let embedded = PostgresCluster(directory: dir.appendingPathComponent("postgres"))
            logger.info("starting private postgresql", metadata: ["dir": "\(embedded.directory.path)"])
            do {
                try await embedded.initializeIfNeeded()
                if try await embedded.start() { cluster = embedded }
                try embedded.createDatabaseIfNeeded()
            } catch {
                throw fatal("the private PostgreSQL cluster did not start: \(error)")
            }
            devLayer.database = embedded.conninfo
            devLayer.socket = dir.appendingPathComponent("bbcsd.sock").path
            // Every local user may connect; the daemon decides what each may do.
            devLayer.socketMode = 0o666
            guard let shipped = Resources.locate(Resources.defaultPlan) else { throw fatal("cannot find \(Resources.defaultPlan); give --plan FILE") }
            devLayer.plan = shipped.path
            // Whoever runs a development daemon administers it, and so does root.
            devAdmins = [String(cString: getpwuid(getuid()).pointee.pw_name), "root"]
        }

        let configPath = config, defaults = devLayer
        let extraAdmins = admins + devAdmins
        let clock = now.flatMap(Self.instant).map { start -> @Sendable () -> Date in
            let began = Date()
            return { start.addingTimeInterval(Date().timeIntervalSince(began)) }
        }
        /// Every layer, the file read afresh: at start and on each SIGHUP.
        @Sendable func resolve() throws -> DaemonConfiguration {
            let file = try configPath.map(ConfigFile.load(path:)) ?? ConfigFile()
            let settings = flagLayer.merged(over: environmentLayer.merged(over: file.merged(over: defaults)))
            guard let database = settings.database else {
                throw ConfigFile.Invalid(file: configPath ?? "bbcsd", line: 0, key: "database",
                                         problem: "no database: set it in the configuration file, BBCS_DATABASE or --database (or use --dev DIR)")
            }
            guard let schema = settings.schemaDir.map(URL.init(fileURLWithPath:)) ?? Resources.locate("Schema") else {
                throw ConfigFile.Invalid(file: configPath ?? "bbcsd", line: 0, key: "schema_dir",
                                         problem: "cannot find the Schema folder; set schema_dir or give --schema DIR")
            }
            let endpoint: Listener.Endpoint = activated.map { .descriptor($0) }
                ?? .path(settings.socket ?? "/run/bbcs/bbcsd.sock", mode: mode_t(settings.socketMode ?? 0o660))
            var configuration = DaemonConfiguration(database: database, endpoint: endpoint, schemaDirectory: schema,
                                                    initialPlan: settings.plan.map(URL.init(fileURLWithPath:)))
            configuration.poolSize = settings.poolSize ?? configuration.poolSize
            configuration.maxLineBytes = settings.maxLineBytes ?? configuration.maxLineBytes
            configuration.bootstrapAdmins = Array(NSOrderedSet(array: (settings.admins ?? []) + extraAdmins).array as! [String])
            configuration.reminders.figureGraceDays = settings.figureGraceDays ?? configuration.reminders.figureGraceDays
            configuration.logLevel = settings.logLevel.flatMap(Logger.Level.init(rawValue:)) ?? .info
            configuration.shutdownTimeout = .seconds(settings.shutdownTimeout ?? 10)
            configuration.reminders.taskLeadDays = settings.taskReminderDays ?? configuration.reminders.taskLeadDays
            configuration.reminders.strategyLeadDays = settings.strategyReminderDays ?? configuration.reminders.strategyLeadDays
            configuration.reminders.escalateAfterDays = settings.overdueEscalationDays ?? configuration.reminders.escalateAfterDays
            configuration.mail = settings.mailCommand.map { MailSettings(command: $0, timeout: .seconds(settings.mailTimeout ?? 30)) }
            configuration.schedulerInterval = .seconds(settings.schedulerInterval ?? 300)
            if let clock { configuration.clock = clock }
            return configuration
        }

        var configuration: DaemonConfiguration
        do { configuration = try resolve() } catch let error as ConfigFile.Invalid {
            if let cluster { try? await cluster.stop() }
            throw configurationError("\(error)")
        }
        configuration.reread = resolve
        if let now { logger.notice("clock set", metadata: ["now": "\(now)"]) }

        let daemon = Daemon(configuration: configuration, logger: logger, notifier: notifier)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: Error?
        do { try await group.run() } catch is CancellationError {} catch { failure = error }
        if let cluster {
            logger.info("stopping private postgresql")
            do { try await cluster.stop() } catch { logger.error("postgresql did not stop", metadata: ["error": "\(error)"]) }
        }
        if let failure {
            logger.critical("daemon stopped", metadata: ["error": "\(failure)"])
            throw ExitCode.failure
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
