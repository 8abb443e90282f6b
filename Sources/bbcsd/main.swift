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
            started by the daemon, with the shipped plan loaded. Run with --config FILE
            for a deployment.

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
            "database": database, "pool_size": poolSize, "socket": socket, "socket_mode": socketMode, "schema_dir": schema,
            "plan": plan, "log_level": logLevel, "figure_grace_days": figureGraceDays, "shutdown_timeout": shutdownTimeout,
        ]
        return values.compactMapValues { $0 }
    }

    func run() async throws {
        // A mail command that exits before reading its message must not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { DaemonLogHandler(label: $0) }
        let logger = Logger(label: "bbcsd")
        let environment = ProcessInfo.processInfo.environment
        let notifier = SystemdNotifier(environment: environment)

        var sources: SettingSources
        do {
            sources = try SettingSources(flags: flagValues, admins: admins, environment: environment, file: config.map(ConfigFile.disk))
        } catch {
            throw configurationError("\(error)")
        }
        var cluster: PostgresCluster?
        if let dev {
            let started = try await startPrivateCluster(in: URL(fileURLWithPath: dev).standardizedFileURL, logger: logger)
            cluster = started.cluster
            sources.development = started.defaults
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
            if let cluster { try? await cluster.stop() }
            throw configurationError("\(error)")
        }
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

    /// `--dev DIR`: a private PostgreSQL cluster in DIR, created and started if need be (nil
    /// when it was already running), and the settings it provides beneath the file.
    private func startPrivateCluster(in dir: URL, logger: Logger) async throws -> (cluster: PostgresCluster?, defaults: SettingLayer) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let embedded = PostgresCluster(directory: dir.appendingPathComponent("postgres"))
        logger.info("starting private postgresql", metadata: ["dir": "\(embedded.directory.path)"])
        var started: PostgresCluster?
        do {
            try await embedded.initializeIfNeeded()
            if try await embedded.start() { started = embedded }
            try embedded.createDatabaseIfNeeded()
        } catch {
            throw fatal("the private PostgreSQL cluster did not start: \(error)")
        }
        guard let plan = Resources.locate(Resources.defaultPlan) else { throw fatal("cannot find \(Resources.defaultPlan); give --plan FILE") }
        return (started, .development(database: embedded.conninfo, directory: dir, plan: plan))
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
