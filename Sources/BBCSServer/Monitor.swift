import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Watches the parts the daemon depends on: says how it is doing (`system.health`, systemd's
/// STATUS=), renders its metrics (`system.metrics`, the textfile), and pings the systemd
/// watchdog only while the event loop, the pool and the scheduler make progress.
final class DaemonMonitor: Sendable {
    let metrics: DaemonMetrics
    let pool: PGPool
    let probe: DatabaseProbe
    let scheduler: SchedulerProgress
    let delivery: MailDelivery?
    let changes: ChangeStream
    let watch: WatchHub
    let group: any EventLoopGroup
    let logger: Logger
    /// Since when the event loops have been handed a task not all have run yet.
    private let loopCheck = Mutex<ContinuousClock.Instant?>(nil)

    /// How long an event loop may take to run a task handed to it before it counts as stuck.
    static let eventLoopSilence: Duration = .seconds(2)

    init(metrics: DaemonMetrics, pool: PGPool, probe: DatabaseProbe, scheduler: SchedulerProgress, delivery: MailDelivery?,
         changes: ChangeStream, watch: WatchHub, group: any EventLoopGroup, logger: Logger) {
        self.metrics = metrics
        self.pool = pool
        self.probe = probe
        self.scheduler = scheduler
        self.delivery = delivery
        self.changes = changes
        self.watch = watch
        self.group = group
        self.logger = logger
    }

    var health: Health {
        let backlog = delivery?.backlog ?? MailDelivery.Backlog()
        let silent = loopCheck.withLock { $0 }.map { ContinuousClock.now - $0 }
        return Health(.init(now: Date(), database: probe.reading, pool: pool.usage, schedulerLate: scheduler.late(),
                            mailPending: backlog.waiting, lastMailFailure: backlog.lastFailure,
                            eventLoopSilentFor: silent.flatMap { $0 > Self.eventLoopSilence ? $0 : nil }))
    }

    /// The Prometheus text of every metric as of now.
    var metricsText: String {
        let health = self.health, database = probe.reading, delivered = changes.delivered
        return metrics.text(.init(pool: pool.usage, databaseReachable: database.reachable,
                                  mailsPending: delivery?.backlog.waiting ?? 0, schedulerLate: scheduler.late() ?? .zero,
                                  changeSeq: delivered, changeLag: max(0, (database.head ?? delivered) - delivered),
                                  watchers: watch.count, health: health.status))
    }

    /// Hands every event loop a task, unless the last ones are still waiting to run: a stuck
    /// loop never runs its task, and the health check reads the wait as silence.
    func checkEventLoops() {
        let start = loopCheck.withLock { started -> Bool in
            guard started == nil else { return false }
            started = .now
            return true
        }
        guard start else { return }
        let loops = Array(group.makeIterator())
        Task {
            await withTaskGroup(of: Void.self) { checks in
                for loop in loops { checks.addTask { try? await loop.submit {}.get() } }
            }
            loopCheck.withLock { $0 = nil }
        }
    }

    /// Every `interval`: checks the event loops, tells systemd the health line (STATUS=, each
    /// time: a reload's READY=1 shows "serving" meanwhile), and pings the watchdog (when
    /// `pinging`) only while the daemon makes progress. A change of status is logged.
    func run(notifier: SystemdNotifier, every interval: Duration, pinging: Bool) async {
        var shown = HealthStatus.ok
        while !Task.isCancelled {
            checkEventLoops()
            let health = self.health
            notifier.status(health.line)
            if health.status != shown {
                log(health)
                shown = health.status
            }
            if pinging, health.progressing { notifier.watchdog() }
            guard (try? await Task.sleep(for: interval)) != nil else { break }
        }
    }

    private func log(_ health: Health) {
        let level: Logger.Level = switch health.status {
        case .ok: .notice
        case .degraded: .warning
        case .failing: .error
        }
        logger.log(level: level, "health changed", metadata: ["status": "\(health.status.rawValue)", "reasons": "\(health.reasons)",
                                                             "watchdog": "\(health.progressing ? "pinged" : "withheld")"])
    }

    /// Writes the metrics to `path` every `interval` (each read per write, so a reload applies),
    /// atomically: node_exporter's textfile collector never reads half a file.
    func writeTextfile(path: @escaping @Sendable () -> String?, every interval: @escaping @Sendable () -> Duration) async {
        var failing = false
        while !Task.isCancelled {
            if let path = path() {
                do {
                    let text = metricsText
                    try await NIOThreadPool.singleton.runIfActive { try Self.write(text, to: path) }
                    if failing { logger.notice("metrics textfile written again", metadata: ["path": "\(path)"]) }
                    failing = false
                } catch {
                    if !failing { logger.warning("metrics textfile not written", metadata: ["path": "\(path)", "error": "\(error)"]) }
                    failing = true
                }
            }
            guard (try? await Task.sleep(for: interval())) != nil else { break }
        }
    }

    /// Writes `text` to a temporary file beside `path`, then renames it over `path`.
    static func write(_ text: String, to path: String) throws {
        let target = URL(fileURLWithPath: path)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid()).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            // node_exporter runs as a user of its own: the file is for any reader.
            _ = chmod(temporary.path, 0o644)
            guard rename(temporary.path, target.path) == 0 else { throw TextfileError(path: path, errno: errno) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}

/// The metrics textfile could not be put in place.
struct TextfileError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot rename the metrics file into \(path): \(String(cString: strerror(errno)))" }
}
