import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Everything the daemon needs to run, whichever way it was configured.
public struct DaemonConfiguration: Sendable {
    /// libpq connection string (keywords or URI) of the role the daemon serves as.
    public var database: String
    /// libpq connection string of the schema's owner, for migrations only; nil: migrate over `database`.
    public var migrationDatabase: String?
    /// Most database connections open at once.
    public var poolSize: Int = 8
    /// How long a request waits for a free database connection; a reload applies it at once.
    public var poolWaitTimeout: Duration = .seconds(10)
    /// How long a request may take in the database (its deadline; also each session's
    /// statement_timeout); a reload applies it to the next request.
    public var requestTimeout: Duration = .seconds(15)
    /// How long a statement waits for a lock (each session's lock_timeout).
    public var lockTimeout: Duration = .seconds(5)
    /// Where to listen.
    public var endpoint: Listener.Endpoint
    /// Longest request line, in bytes.
    public var maxLineBytes: Int = defaultMaxLineBytes
    /// Connection caps and timeouts; a reload applies them to new connections.
    public var connectionLimits = ConnectionLimits()
    /// Folder of the ordered SQL migrations.
    public var schemaDirectory: URL
    /// A plan file to import at start when the database holds no plan yet.
    public var initialPlan: URL?
    /// Logins made administrators at start (registered if they are not yet users).
    public var bootstrapAdmins: [String] = []
    public var logLevel: Logger.Level = .info
    /// Lead times and escalation of reminders, and the grace days after which a figure is due.
    public var reminders = ReminderSettings()
    /// The council's risk matrix the register is scored on.
    public var riskMatrix = RiskMatrix.standard
    /// The plan a request naming none is of, when the database holds several.
    public var defaultPlan: String?
    /// How reminders are mailed (by the delivery worker); nil: inbox only.
    public var mail: MailSettings?
    /// How often the scheduler looks for reminders due.
    public var schedulerInterval: Duration = .seconds(300)
    /// Where the metrics are written every `metricsInterval` (node_exporter's textfile collector); nil: nowhere.
    public var metricsTextfile: String?
    public var metricsInterval: Duration = .seconds(15)
    /// Where the public site is kept, and what it shows.
    var site = SiteKeeper.Settings()
    /// How refusal storms are collapsed in the audit trail and the log.
    public var refusalLimits = RefusalThrottle.Limits()
    /// How long SIGTERM waits for requests in flight before the daemon exits regardless.
    public var shutdownTimeout: Duration = .seconds(10)
    /// The daemon's clock: real time, or a rehearsal's.
    public var clock: @Sendable () -> Date = { Date() }
    /// Reads the configuration again (on SIGHUP); nil when there is nothing to reread.
    public var reread: (@Sendable () throws -> DaemonConfiguration)?
    /// The keys these settings were resolved from; nil when built by hand.
    public var settings: ResolvedSettings?

    public init(database: String, endpoint: Listener.Endpoint, schemaDirectory: URL, initialPlan: URL? = nil) {
        self.database = database
        self.endpoint = endpoint
        self.schemaDirectory = schemaDirectory
        self.initialPlan = initialPlan
    }

    /// The settings a reload cannot apply, by configuration key, where `other` differs.
    func restartOnlyChanges(to other: DaemonConfiguration) -> [String] {
        guard let settings, let next = other.settings else { return [] }
        return settings.restartNeeded(for: next)
    }
}

/// The daemon: migrates the schema, loads a first plan if asked, then serves the socket
/// until graceful shutdown, telling systemd how it goes. `bbcsd` and the tests build it the
/// same way.
public final class Daemon: Service {
    public let configuration: DaemonConfiguration
    public let pool: PGPool
    let logger: Logger
    let notifier: SystemdNotifier
    let metrics: DaemonMetrics
    /// Set once the monitor pings the watchdog: until then (migrations, waiting for the
    /// database at start) the daemon pings it regardless.
    private let monitored = NIOLockedValueBox(false)
    /// The settings in force: the start's, then each reload's.
    private let live: NIOLockedValueBox<DaemonConfiguration>

    public init(configuration: DaemonConfiguration, logger: Logger, notifier: SystemdNotifier = SystemdNotifier(environment: [:])) {
        let live = NIOLockedValueBox(configuration)
        let metrics = DaemonMetrics()
        self.configuration = configuration
        self.metrics = metrics
        self.pool = PGPool(hosts: PGHosts(conninfo: configuration.database, logger: logger), size: configuration.poolSize,
                           waitTimeout: { live.withLockedValue { $0.poolWaitTimeout } },
                           sessionTimeouts: { live.withLockedValue { SessionTimeouts(statement: $0.requestTimeout, lock: $0.lockTimeout) } },
                           reserved: 1, observeWait: { metrics.poolWaited($0) })
        self.logger = logger
        self.notifier = notifier
        self.live = live
        DaemonLogHandler.level.withLockedValue { $0 = configuration.logLevel }
    }

    public func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { helpers in
                    if let interval = self.notifier.watchdogInterval {
                        helpers.addTask { try await self.pingWatchdog(every: interval) }
                    }
                    if self.configuration.reread != nil {
                        helpers.addTask { await self.reloadOnHangup() }
                    }
                    // Serving ends the daemon; the helpers stop with it, never before it, since
                    // cancelling serving would lose the replies of requests in flight.
                    try await self.serve()
                    helpers.cancelAll()
                }
            } onGracefulShutdown: {
                let timeout = self.live.withLockedValue { $0.shutdownTimeout }
                self.notifier.stopping()
                self.logger.info("stopping", metadata: ["timeout": "\(timeout)"])
                self.exitIfStillRunning(after: timeout)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
        logger.info("stopped")
    }

    private func serve() async throws {
        let migration = try SchemaMigration(configuration)
        notifier.status("applying database migrations")
        // SIGTERM while PostgreSQL is still away must stop the wait, not be ignored.
        try await cancelWhenGracefulShutdown {
            try await self.untilDatabaseAnswers {
                try await migration.run(logger: self.logger)
            }
        }
        if let plan = configuration.initialPlan {
            notifier.status("importing the plan")
            try await importIfEmpty(plan)
        }
        try await bootstrapAdmins(configuration.bootstrapAdmins)
        notifier.status("loading the plan into memory")
        let memory = try await PlanMemory.load(pool: pool, logger: logger)
        // The stream starts where the memory's snapshot ends, so no change falls between them.
        let changes = ChangeStream(pool: pool, after: memory.seq, logger: logger)
        changes.subscribe { await memory.apply($0) }
        let live = self.live, metrics = self.metrics
        let delivery = MailDelivery(pool: pool, settings: { live.withLockedValue { $0.mail } }, clock: configuration.clock, logger: logger,
                                    metrics: metrics)
        let scheduler = Scheduler(pool: pool, settings: { live.withLockedValue { ($0.reminders, $0.mail) } },
                                  clock: configuration.clock, logger: logger, delivery: delivery, metrics: metrics)
        let watch = WatchHub.daemon(pool: pool, memory: memory, after: memory.seq, clock: configuration.clock, logger: logger, metrics: metrics)
        // After the memory: a watcher's standing is judged on the directory the batch left.
        changes.subscribe { changes in await watch.publish(changes) }
        let site = SiteKeeper(memory: memory, pool: pool, settings: { live.withLockedValue { $0.site } }, clock: configuration.clock,
                              graceDays: { live.withLockedValue { $0.reminders.figureGraceDays } }, logger: logger)
        changes.subscribe { _ in site.changed() }
        let probe = DatabaseProbe(hosts: pool.hosts, onRecovery: { metrics.databaseReconnected() })
        let monitor = DaemonMonitor(metrics: metrics, pool: pool, probe: probe, scheduler: scheduler.progress, delivery: delivery,
                                    changes: changes, watch: watch, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        let table = MethodTable.standard(Stores(pool: pool, scheduler: scheduler, memory: memory, changes: changes, watch: watch,
                                                monitor: monitor, site: site,
                                                figureGraceDays: { live.withLockedValue { $0.reminders.figureGraceDays } },
                                                riskMatrix: { live.withLockedValue { $0.riskMatrix } },
                                                defaultPlan: { live.withLockedValue { $0.defaultPlan } }))
        let dispatcher = Dispatcher(table: table, pool: pool, memory: memory, clock: configuration.clock, logger: logger,
                                    refusalLimits: { live.withLockedValue { $0.refusalLimits } },
                                    requestTimeout: { live.withLockedValue { $0.requestTimeout } }, metrics: metrics)
        // Binding the socket narrows the process's umask for a moment: nothing else starts
        // (a mail command, say) until the socket listens.
        let (listening, announce) = AsyncStream<Void>.makeStream()
        let listener = Listener(endpoint: configuration.endpoint, dispatcher: dispatcher,
                                maxLineBytes: configuration.maxLineBytes, limits: { live.withLockedValue { $0.connectionLimits } },
                                logger: logger, metrics: metrics) { [notifier] in
            notifier.ready(status: "serving")
            announce.finish()
        }
        changes.start()
        // Refusals counted but not yet written are written once no request can add to them.
        do {
            try await withThrowingTaskGroup(of: Void.self) { background in
                // What writes files, mails or pings starts once the socket listens. A daemon that was
                // down over a due date catches up here, at once.
                background.addTask { [notifier, monitored] in
                    for await _ in listening {}
                    guard !Task.isCancelled else { return }
                    await withDiscardingTaskGroup { started in
                        // Without systemd too: the event loop checks feed system.health.
                        started.addTask {
                            monitored.withLockedValue { $0 = true }
                            await monitor.run(notifier: notifier, every: .seconds(1), pinging: notifier.watchdogInterval != nil)
                        }
                        started.addTask { await site.run() }
                        started.addTask {
                            await monitor.writeTextfile(path: { live.withLockedValue { $0.metricsTextfile } },
                                                        every: { live.withLockedValue { $0.metricsInterval } })
                        }
                        // Mail goes out apart from the runs: a hanging relay delays no reminder.
                        started.addTask { await delivery.run() }
                        started.addTask {
                            // A connection is kept for it: requests stuck behind a lock cannot stop reminders.
                            await PGPool.$usesReserve.withValue(true) {
                                await scheduler.runPeriodically(every: { live.withLockedValue { $0.schedulerInterval } },
                                                                as: .daemon(uid: getuid(), pid: getpid()))
                            }
                        }
                    }
                }
                background.addTask { await probe.run() }
                background.addTask { await dispatcher.refusals.flushPeriodically() }
                background.addTask { await dispatcher.failures.flushPeriodically() }
                try await listener.run()
                background.cancelAll()
            }
        } catch {
            await changes.stop()
            await dispatcher.refusals.flushAll()
            dispatcher.failures.flush(final: true)
            throw error
        }
        await changes.stop()
        await dispatcher.refusals.flushAll()
        dispatcher.failures.flush(final: true)
    }

    /// Retries `body` while the database cannot be reached, with growing pauses, until
    /// graceful shutdown.
    private func untilDatabaseAnswers(_ body: @Sendable () async throws -> Void) async throws {
        var pause = Duration.milliseconds(200)
        while true {
            do {
                return try await body()
            } catch PGError.connectionFailed(let message), PGError.outcomeUnknown(let message) {
                // Start-up's writes (migrations, the plan import, bootstrap administrators) find
                // their own work done: one whose outcome is unknown may simply run again.
                logger.warning("waiting for the database", metadata: ["error": "\(message)", "retry_in": "\(pause)"])
                notifier.status("waiting for the database: \(message)")
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(10))
            }
        }
    }

    /// Pings until the monitor takes over, once the socket listens.
    private func pingWatchdog(every interval: Duration) async throws {
        while !monitored.withLockedValue({ $0 }) {
            notifier.watchdog()
            try await Task.sleep(for: interval)
        }
    }

    /// SIGHUP rereads the configuration: what can change live does, the rest is logged as
    /// needing a restart; an invalid file leaves the running settings as they are.
    private func reloadOnHangup() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }

    func reload() async {
        guard let reread = configuration.reread else { return }
        notifier.reloading()
        defer { notifier.ready(status: "serving") }
        let next: DaemonConfiguration
        do { next = try reread() } catch {
            logger.error("configuration not reloaded; the running settings stay", metadata: ["error": "\(error)"])
            return
        }
        // Live settings are read from `live`; the rest stay as the daemon started with them.
        let previous = live.withLockedValue { current -> DaemonConfiguration in
            let previous = current
            current = next
            return previous
        }
        for key in configuration.restartOnlyChanges(to: next) {
            logger.notice("setting changed; restart bbcsd to apply it", metadata: ["key": "\(key)"])
        }
        DaemonLogHandler.level.withLockedValue { $0 = next.logLevel }
        if next.bootstrapAdmins != previous.bootstrapAdmins {
            do {
                try await bootstrapAdmins(next.bootstrapAdmins)
            } catch {
                logger.error("bootstrap administrators not applied", metadata: ["error": "\(error)"])
            }
        }
        logger.info("configuration reloaded", metadata: (next.settings?.live ?? []).reduce(into: [:]) { $0[$1.key] = "\($1.value)" })
    }

    /// A bounded stop: statements still running at the timeout (e.g. held by a lock) are
    /// cancelled, so their clients are answered (nothing changed) before the daemon exits; and
    /// as the last resort, requests still running a little after that (e.g. a statement
    /// PostgreSQL never answers) do not keep the process alive.
    private func exitIfStillRunning(after timeout: Duration) {
        let logger = self.logger, pool = self.pool
        Task {
            try? await Task.sleep(for: timeout)
            // Logged first: once the last request is answered the process may end at once.
            let running = pool.runningCount
            guard running > 0 else { return }
            logger.warning("requests still running at the shutdown timeout were cancelled",
                           metadata: ["timeout": "\(timeout)", "cancelled": "\(running)"])
            await pool.cancelRunning()
        }
        // Time for a cancel to go unanswered, the connection to be abandoned, and the replies written.
        let last = timeout + StatementWatch.grace + .seconds(2)
        let thread = Thread {
            Thread.sleep(forTimeInterval: Double(last.components.seconds) + Double(last.components.attoseconds) / 1e18)
            logger.critical("requests still running after the shutdown timeout; exiting without them",
                            metadata: ["timeout": "\(timeout)"])
            _exit(EXIT_FAILURE)
        }
        thread.start()
    }

    /// The daemon acting on its own at start, as the audit trail records it.
    private func daemonActor(_ method: String) -> Actor {
        Actor(principal: .daemon(uid: getuid(), pid: getpid()), method: method, at: configuration.clock())
    }

    private func bootstrapAdmins(_ logins: [String]) async throws {
        guard !logins.isEmpty else { return }
        var admins: [(login: String, name: String)] = []
        for login in logins {
            guard let account = try await UnixAccounts.account(login) else {
                logger.error("bootstrap administrator has no Unix account; skipped", metadata: ["login": "\(login)"])
                continue
            }
            admins.append((account.login, account.fullName.isEmpty ? account.login : account.fullName))
        }
        let added = try await Directory(pool: pool).ensureAdmins(admins, by: daemonActor("user.bootstrap"))
        if !added.isEmpty { logger.info("bootstrap administrators", metadata: ["logins": "\(added.joined(separator: ","))"]) }
    }

    private func importIfEmpty(_ url: URL) async throws {
        let count = try await pool.withConnection { db in try db.one(Int.self, "SELECT count(*) FROM plans") }
        guard count == 0 else { return }
        // Foundation's error would name neither the file nor the reason.
        guard let data = FileManager.default.contents(atPath: url.path) else { throw PlanFileUnreadable(path: url.path) }
        let document = try PlanDocument.load(from: data)
        let summary = try await PlanImporter.importPlan(document, into: pool, by: daemonActor("plan.import"),
                                                        file: String(decoding: data, as: UTF8.self), source: url.lastPathComponent)
        logger.info("imported plan", metadata: ["plan": "\(summary.plan)", "file": "\(url.path)",
                                                "indicators": "\(summary.indicators)", "tasks": "\(summary.tasks)"])
    }
}

/// The plan file to import at start cannot be read.
struct PlanFileUnreadable: Error, CustomStringConvertible {
    let path: String
    var description: String {
        "cannot read the plan file \(path): " + (access(path, R_OK) == 0 ? "it is not a readable file" : String(cString: strerror(errno)))
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
