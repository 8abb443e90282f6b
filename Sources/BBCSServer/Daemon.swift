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
        let dispatcher = Dispatcher(table: .standard(pool: pool), logger: logger)
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

    private func importIfEmpty(_ url: URL) async throws {
        let count = try await pool.withConnection { db in try db.query("SELECT count(*) FROM plans").int(0, 0) }
        guard count == 0 else { return }
        let document = try PlanDocument.load(from: try Data(contentsOf: url))
        let summary = try await PlanImporter.importPlan(document, into: pool)
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
