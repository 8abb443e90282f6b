import BBCSPostgres
import BBCSProtocol
import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// The daemon's metrics, through swift-metrics into a registry of its own (never the global
/// one: the tests run several daemons' parts in one process), rendered in the Prometheus text
/// format for `system.metrics` and the textfile. Counters and histograms move as things
/// happen; gauges are set from the daemon's state each time the text is rendered.
public final class DaemonMetrics: Sendable {
    /// One metric the daemon exports, as the README documents it.
    public struct Family: Sendable {
        public enum Kind: String, Sendable {
            case counter, gauge, histogram
        }

        public let name: String
        public let kind: Kind
        /// What it means (its `# HELP` line).
        public let help: String
    }

    /// Every metric the daemon exports, in the order they are rendered.
    public static let families: [Family] = [
        Family(name: "bbcs_requests_total", kind: .counter, help: "Requests answered, by method and outcome (ok or the error code)."),
        Family(name: "bbcs_request_duration_seconds", kind: .histogram, help: "Time from a request's decoding to its reply, by method."),
        Family(name: "bbcs_connections_open", kind: .gauge, help: "Client connections open now."),
        Family(name: "bbcs_connections_refused_total", kind: .counter, help: "Client connections refused, by the limit they met (max_connections, max_connections_per_uid)."),
        Family(name: "bbcs_pool_size", kind: .gauge, help: "Database connections the pool may open (pool_size)."),
        Family(name: "bbcs_pool_in_use", kind: .gauge, help: "Database connections held by a request or the scheduler now."),
        Family(name: "bbcs_pool_idle", kind: .gauge, help: "Database connections open and idle now."),
        Family(name: "bbcs_pool_waiters", kind: .gauge, help: "Callers waiting for a database connection now."),
        Family(name: "bbcs_pool_wait_seconds", kind: .histogram, help: "Time callers waited for a database connection, granted or not."),
        Family(name: "bbcs_pool_connections_opened_total", kind: .counter, help: "Database connections the pool has opened (new ones replace those that broke)."),
        Family(name: "bbcs_database_reachable", kind: .gauge, help: "1 while the database answers the daemon's probe (every second), else 0."),
        Family(name: "bbcs_database_reconnects_total", kind: .counter, help: "Times the database answered again after an outage."),
        Family(name: "bbcs_reminders_created_total", kind: .counter, help: "Reminders the scheduler has recorded."),
        Family(name: "bbcs_mails_sent_total", kind: .counter, help: "Reminder mails the mail command took."),
        Family(name: "bbcs_mails_failed_total", kind: .counter, help: "Reminder mail attempts that failed (each is retried)."),
        Family(name: "bbcs_mails_pending", kind: .gauge, help: "Reminders whose mail is still to go, as of the last scheduler run or mail pass."),
        Family(name: "bbcs_scheduler_run_duration_seconds", kind: .histogram, help: "Time each scheduler run took, failed ones included."),
        Family(name: "bbcs_scheduler_late_seconds", kind: .gauge, help: "How far the scheduler is behind its next run's time (0 when on time)."),
        Family(name: "bbcs_change_seq", kind: .gauge, help: "The newest change seq the read model has applied."),
        Family(name: "bbcs_change_lag", kind: .gauge, help: "Changes the database holds that the read model has not applied yet."),
        Family(name: "bbcs_watchers_connected", kind: .gauge, help: "Connections watching changes now."),
        Family(name: "bbcs_watchers_dropped_total", kind: .counter, help: "Watchers closed by the daemon, by reason (too_slow, no_longer_active)."),
        Family(name: "bbcs_health", kind: .gauge, help: "The daemon's health: 0 ok, 1 degraded, 2 failing (bbcsctl health says why)."),
    ]

    /// The gauges' values at one moment.
    struct Readings: Sendable {
        var pool: PGPool.Usage
        var databaseReachable: Bool
        var mailsPending: Int
        var schedulerLate: Duration
        var changeSeq: Int64
        var changeLag: Int64
        var watchers: Int
        var health: HealthStatus
    }

    private let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let connectionsOpen: Meter
    private let poolWait: CoreMetrics.Timer
    private let poolOpened: CoreMetrics.Counter
    private let reconnects: CoreMetrics.Counter
    private let remindersCreated: CoreMetrics.Counter
    private let mailsSent: CoreMetrics.Counter
    private let mailsFailed: CoreMetrics.Counter
    private let schedulerRun: CoreMetrics.Timer
    private let gauges: [String: Meter]

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests answered from memory take tens of microseconds; a report or a write, milliseconds.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        factory.durationHistogramBuckets["bbcs_scheduler_run_duration_seconds"] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60), .seconds(300),
        ]
        self.factory = factory
        connectionsOpen = Meter(label: "bbcs_connections_open", factory: factory)
        poolWait = CoreMetrics.Timer(label: "bbcs_pool_wait_seconds", factory: factory)
        poolOpened = CoreMetrics.Counter(label: "bbcs_pool_connections_opened_total", factory: factory)
        reconnects = CoreMetrics.Counter(label: "bbcs_database_reconnects_total", factory: factory)
        remindersCreated = CoreMetrics.Counter(label: "bbcs_reminders_created_total", factory: factory)
        mailsSent = CoreMetrics.Counter(label: "bbcs_mails_sent_total", factory: factory)
        mailsFailed = CoreMetrics.Counter(label: "bbcs_mails_failed_total", factory: factory)
        schedulerRun = CoreMetrics.Timer(label: "bbcs_scheduler_run_duration_seconds", factory: factory)
        gauges = Dictionary(uniqueKeysWithValues: Self.families.filter { $0.kind == .gauge && $0.name != "bbcs_connections_open" }.map {
            ($0.name, Meter(label: $0.name, factory: factory))
        })
    }

    /// A request answered with `outcome` ("ok" or its error code) after `elapsed`.
    func requestAnswered(method: String, outcome: String, after elapsed: Duration) {
        CoreMetrics.Counter(label: "bbcs_requests_total", dimensions: [("method", method), ("outcome", outcome)], factory: factory).increment()
        CoreMetrics.Timer(label: "bbcs_request_duration_seconds", dimensions: [("method", method)], factory: factory).record(duration: elapsed)
    }

    func connectionOpened() { connectionsOpen.increment() }
    func connectionClosed() { connectionsOpen.decrement() }

    func connectionRefused(limit: String) {
        CoreMetrics.Counter(label: "bbcs_connections_refused_total", dimensions: [("limit", limit)], factory: factory).increment()
    }

    /// A caller waited `duration` for a database connection.
    func poolWaited(_ duration: Duration) { poolWait.record(duration: duration) }

    func databaseReconnected() { reconnects.increment() }

    func schedulerRan(for duration: Duration, created: Int) {
        schedulerRun.record(duration: duration)
        if created > 0 { remindersCreated.increment(by: created) }
    }

    func mailAttempted(delivered: Bool) { (delivered ? mailsSent : mailsFailed).increment() }

    func watcherDropped(reason: String) {
        CoreMetrics.Counter(label: "bbcs_watchers_dropped_total", dimensions: [("reason", reason)], factory: factory).increment()
    }

    /// The Prometheus text of every metric, the gauges set from `readings` first.
    func text(_ readings: Readings) -> String {
        set(readings)
        // The registry keeps no help text of its own through swift-metrics, and emits its
        // families in no fixed order: each family's block is put in the catalogue's order,
        // under its `# HELP` line.
        var blocks: [String: [Substring]] = [:]
        var current: String?
        for line in registry.emitToString().split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                current = line.dropFirst("# TYPE ".count).split(separator: " ").first.map(String.init)
            }
            if let current { blocks[current, default: []].append(line) }
        }
        var text = ""
        for family in Self.families {
            guard let block = blocks[family.name] else { continue }
            text += "# HELP \(family.name) \(family.help)\n"
            for line in block { text += line + "\n" }
        }
        return text
    }

    private func set(_ readings: Readings) {
        let values: [String: Double] = [
            "bbcs_pool_size": Double(readings.pool.size),
            "bbcs_pool_in_use": Double(readings.pool.inUse),
            "bbcs_pool_idle": Double(readings.pool.idle),
            "bbcs_pool_waiters": Double(readings.pool.waiters),
            "bbcs_database_reachable": readings.databaseReachable ? 1 : 0,
            "bbcs_mails_pending": Double(readings.mailsPending),
            "bbcs_scheduler_late_seconds": readings.schedulerLate.timeInterval,
            "bbcs_change_seq": Double(readings.changeSeq),
            "bbcs_change_lag": Double(readings.changeLag),
            "bbcs_watchers_connected": Double(readings.watchers),
            "bbcs_health": Double(readings.health.level),
        ]
        for (name, value) in values { gauges[name]?.set(value) }
        // The pool counts the connections it opened; the counter catches up with it.
        let opened = readings.pool.opened
        poolOpenedReported.withLock { reported in
            if opened > reported { poolOpened.increment(by: opened - reported) }
            reported = max(reported, opened)
        }
    }

    private let poolOpenedReported = Mutex(0)
}

