import ArgumentParser
import BBCSPostgres
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
            Flags override the configuration file.
            """,
        version: bbcsVersion)

    @Option(help: ArgumentHelp("Configuration file.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Embedded default: a private PostgreSQL cluster and the socket in this folder.", valueName: "dir"))
    var dev: String?

    @Option(help: ArgumentHelp("Socket path to listen on.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Socket file mode in octal (default 660; 666 with --dev).", valueName: "mode"))
    var socketMode: String?

    @Option(help: ArgumentHelp("libpq connection string.", valueName: "conninfo"))
    var database: String?

    @Option(help: ArgumentHelp("Most database connections open at once.", valueName: "n"))
    var poolSize: Int?

    @Option(help: ArgumentHelp("Folder of SQL migrations (default: the Schema folder shipped with bbcs).", valueName: "dir"))
    var schema: String?

    @Option(help: ArgumentHelp("Plan file to import at start when the database holds no plan.", valueName: "file"))
    var plan: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("admin"),
            help: ArgumentHelp("Make this Unix login an administrator at start (repeatable; adds to the configuration's admins).",
                               valueName: "login"))
    var admins: [String] = []

    @Option(help: ArgumentHelp("Days after a period ends before its figure is due (default 30).", valueName: "days"))
    var figureGraceDays: Int?

    @Option(help: ArgumentHelp("Run the clock from this instant (ISO 8601, e.g. 2026-07-01T09:00:00Z), for rehearsals and tests.",
                               valueName: "time"))
    var now: String?

    func validate() throws {
        if config == nil && dev == nil && database == nil {
            throw ValidationError("give --dev DIR (embedded default), --config FILE or --database CONNINFO")
        }
        if let poolSize, !(1...256).contains(poolSize) { throw ValidationError("--pool-size must be from 1 to 256") }
        if let socketMode, Int(socketMode, radix: 8).map({ (0...0o777).contains($0) }) != true {
            throw ValidationError("--socket-mode must be an octal mode such as 660")
        }
        if let figureGraceDays, !(0...366).contains(figureGraceDays) { throw ValidationError("--figure-grace-days must be from 0 to 366") }
        if let now, ISO8601DateFormatter().date(from: now) == nil {
            throw ValidationError("--now must be an ISO 8601 instant with a zone, e.g. 2026-07-01T09:00:00Z")
        }
    }

    func run() async throws {
        var file = ConfigFile()
        if let config {
            do { file = try ConfigFile.load(path: config) } catch let error as ConfigFile.Invalid {
                FileHandle.standardError.write(Data("bbcsd: \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
        }
        let level = Logger.Level(rawValue: logLevel ?? file.logLevel ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "bbcsd")

        guard let schemaDir = (schema ?? file.schemaDir).map({ URL(fileURLWithPath: $0) }) ?? Resources.locate("Schema") else {
            throw fatal("cannot find the Schema folder; give --schema DIR")
        }

        var cluster: PostgresCluster?
        var database = database ?? file.database
        var socketPath = socket ?? file.socket
        var mode = mode_t(file.socketMode ?? 0o660)
        var initialPlan = (plan ?? file.plan).map { URL(fileURLWithPath: $0) }
        var bootstrapAdmins = (file.admins ?? []) + admins
        if let dev {
            let dir = URL(fileURLWithPath: dev).standardizedFileURL
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let embedded = PostgresCluster(directory: dir.appendingPathComponent("postgres"))
            logger.info("starting private postgresql", metadata: ["dir": "\(embedded.directory.path)"])
            do {
                try embedded.initializeIfNeeded()
                if try embedded.start() { cluster = embedded }
                try embedded.createDatabaseIfNeeded()
            } catch {
                throw fatal("the private PostgreSQL cluster did not start: \(error)")
            }
            database = database ?? embedded.conninfo
            socketPath = socketPath ?? dir.appendingPathComponent("bbcsd.sock").path
            // Every local user may connect; the daemon decides what each may do.
            if file.socketMode == nil { mode = 0o666 }
            // Whoever runs a development daemon administers it, and so does root.
            bootstrapAdmins += [String(cString: getpwuid(getuid()).pointee.pw_name), "root"]
            if initialPlan == nil {
                guard let shipped = Resources.locate(Resources.defaultPlan) else { throw fatal("cannot find \(Resources.defaultPlan); give --plan FILE") }
                initialPlan = shipped
            }
        }
        if let socketMode { mode = mode_t(Int(socketMode, radix: 8)!) }
        guard let database else { throw fatal("no database: set database in the configuration or give --database") }

        var configuration = DaemonConfiguration(
            database: database, endpoint: .path(socketPath ?? "/run/bbcs/bbcsd.sock", mode: mode),
            schemaDirectory: schemaDir, initialPlan: initialPlan)
        configuration.poolSize = poolSize ?? file.poolSize ?? 8
        configuration.maxLineBytes = file.maxLineBytes ?? configuration.maxLineBytes
        configuration.bootstrapAdmins = Array(NSOrderedSet(array: bootstrapAdmins).array as! [String])
        configuration.figureGraceDays = figureGraceDays ?? file.figureGraceDays ?? configuration.figureGraceDays
        if let start = now.flatMap(ISO8601DateFormatter().date(from:)) {
            let began = Date()
            configuration.clock = { start.addingTimeInterval(Date().timeIntervalSince(began)) }
            logger.notice("clock set", metadata: ["now": "\(now!)"])
        }

        let daemon = Daemon(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        var failure: Error?
        do { try await group.run() } catch is CancellationError {} catch { failure = error }
        if let cluster {
            logger.info("stopping private postgresql")
            do { try cluster.stop() } catch { logger.error("postgresql did not stop", metadata: ["error": "\(error)"]) }
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
}
