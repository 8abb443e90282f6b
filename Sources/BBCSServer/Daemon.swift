import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import ServiceLifecycle

/// Everything the daemon needs to run, whichever way it was configured.
public struct DaemonConfiguration: Sendable {
    /// libpq connection string (keywords or URI).
    public var database: String
    /// Most database connections open at once.
    public var poolSize: Int = 8
    /// Where to listen.
    public var endpoint: Listener.Endpoint
    /// Longest request line, in bytes.
    public var maxLineBytes: Int = defaultMaxLineBytes
    /// Folder of the ordered SQL migrations.
    public var schemaDirectory: URL
    /// A plan file to import at start when the database holds no plan yet.
    public var initialPlan: URL?
    /// Logins made administrators at start (registered if they are not yet users).
    public var bootstrapAdmins: [String] = []
    /// Days after a period ends before its figure is due.
    public var figureGraceDays: Int = 30
    /// The daemon's clock: real time, or a rehearsal's.
    public var clock: @Sendable () -> Date = { Date() }

    public init(database: String, endpoint: Listener.Endpoint, schemaDirectory: URL, initialPlan: URL? = nil) {
        self.database = database
        self.endpoint = endpoint
        self.schemaDirectory = schemaDirectory
        self.initialPlan = initialPlan
    }
}

/// The daemon: migrates the schema, loads a first plan if asked, then serves the socket
/// until graceful shutdown. `bbcsd` and the tests build it the same way.
public final class Daemon: Service {
    public let configuration: DaemonConfiguration
    public let pool: PGPool
    let logger: Logger

    public init(configuration: DaemonConfiguration, logger: Logger) {
        self.configuration = configuration
        self.pool = PGPool(conninfo: configuration.database, size: configuration.poolSize)
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await serve()
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    private func serve() async throws {
        let migrations = try Migration.load(from: configuration.schemaDirectory)
        // SIGTERM while PostgreSQL is still away must stop the wait, not be ignored.
        try await cancelWhenGracefulShutdown {
            try await self.untilDatabaseAnswers {
                try await Migrator.migrate(self.pool, migrations, logger: self.logger)
            }
        }
        if let plan = configuration.initialPlan { try await importIfEmpty(plan) }
        try await bootstrapAdmins()
        let dispatcher = Dispatcher(table: .standard(pool: pool, figureGraceDays: configuration.figureGraceDays), pool: pool,
                                    clock: configuration.clock, logger: logger)
        let listener = Listener(endpoint: configuration.endpoint, dispatcher: dispatcher,
                                maxLineBytes: configuration.maxLineBytes, logger: logger)
        try await listener.run()
    }

    /// Retries `body` while the database cannot be reached, with growing pauses, until
    /// graceful shutdown.
    private func untilDatabaseAnswers(_ body: @Sendable () async throws -> Void) async throws {
        var pause = Duration.milliseconds(200)
        while true {
            do {
                return try await body()
            } catch PGError.connectionFailed(let message) {
                logger.warning("waiting for the database", metadata: ["error": "\(message)", "retry_in": "\(pause)"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(10))
            }
        }
    }

    /// The daemon acting on its own at start, as the audit trail records it.
    private func daemonActor(_ method: String) -> Actor {
        Actor(principal: .daemon(uid: getuid(), pid: getpid()), method: method, at: configuration.clock())
    }

    private func bootstrapAdmins() async throws {
        guard !configuration.bootstrapAdmins.isEmpty else { return }
        var admins: [(login: String, name: String)] = []
        for login in configuration.bootstrapAdmins {
            guard let account = UnixAccounts.account(login) else {
                logger.error("bootstrap administrator has no Unix account; skipped", metadata: ["login": "\(login)"])
                continue
            }
            admins.append((account.login, account.fullName.isEmpty ? account.login : account.fullName))
        }
        let added = try await Directory(pool: pool).ensureAdmins(admins, by: daemonActor("user.bootstrap"))
        if !added.isEmpty { logger.info("bootstrap administrators", metadata: ["logins": "\(added.joined(separator: ","))"]) }
    }

    private func importIfEmpty(_ url: URL) async throws {
        let count = try await pool.withConnection { db in try db.query("SELECT count(*) FROM plans").int(0, 0) }
        guard count == 0 else { return }
        let document = try PlanDocument.load(from: try Data(contentsOf: url))
        let summary = try await PlanImporter.importPlan(document, into: pool, by: daemonActor("plan.import"))
        logger.info("imported plan", metadata: ["plan": "\(summary.plan)", "file": "\(url.path)",
                                                "indicators": "\(summary.indicators)", "tasks": "\(summary.tasks)"])
    }
}

/// Finds files that ship with bbcs (Schema/, Config/plans/) whether run from a build tree or an
/// installed prefix.
public enum Resources {
    /// The first existing `relativePath` under: $BBCS_SHARE_DIR, `<exe>/../share/bbcs`, the
    /// nearest folder above the executable or the current directory that holds Package.swift.
    public static func locate(_ relativePath: String) -> URL? {
        var roots: [URL] = []
        if let share = ProcessInfo.processInfo.environment["BBCS_SHARE_DIR"], !share.isEmpty { roots.append(URL(fileURLWithPath: share)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        roots.append(executable.deletingLastPathComponent().appendingPathComponent("share/bbcs"))
        for start in [executable, URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start
            while dir.path != "/" {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) { roots.append(dir); break }
                dir = dir.deletingLastPathComponent()
            }
        }
        return roots.map { $0.appendingPathComponent(relativePath) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The plan shipped with bbcs, loaded by `bbcsd --dev` on first run.
    public static let defaultPlan = "Config/plans/broxtowe-community-safety-2025-2028.json"
}
