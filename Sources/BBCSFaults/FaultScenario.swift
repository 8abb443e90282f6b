import BBCSDevCluster
import BBCSPostgres
import BBCSTestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The faults the suite applies, one at a time, under load.
public enum FaultScenario: String, CaseIterable, Sendable {
    case killDaemon = "kill-daemon"
    case killPostgres = "kill-postgres"
    case stopPostgres = "stop-postgres"
    case terminateBackends = "terminate-backends"
    case heldLock = "held-lock"
    case frozenPrimary = "frozen-primary"

    /// One line for the help text.
    public var summary: String {
        switch self {
        case .killDaemon: return "kill -9 bbcsd under load, start it again; writers reconnect and go on"
        case .killPostgres: return "kill -9 the postmaster and its processes, start PostgreSQL again (crash recovery)"
        case .stopPostgres: return "pg_ctl stop -m fast, PostgreSQL away for --outage seconds, then started again"
        case .terminateBackends: return "pg_terminate_backend on every backend of the daemon's database every 0.5 s for --outage seconds"
        case .heldLock: return "LOCK TABLE figures IN ACCESS EXCLUSIVE MODE held 6 s past the request deadline (or --outage s); readers must go on"
        case .frozenPrimary: return "SIGSTOP the postmaster and every backend 6 s past the request deadline (or --outage s), then SIGCONT"
        }
    }

    /// Scenarios whose point is bounded time: every reply must come within the request deadline.
    var boundsReplies: Bool { self == .heldLock || self == .frozenPrimary }
}

/// How long and how hard a run is.
public struct FaultSettings: Sendable {
    /// Concurrent writers, each correcting a figure of its own.
    public var writers = 32
    /// Concurrent readers (objective.list and system.hello in turn).
    public var readers = 2
    /// Seconds of load around the fault: a third before it, the rest after it ends.
    public var seconds = 30
    /// Seconds PostgreSQL is stopped or frozen, or backends are terminated.
    public var outage = 10
    /// The daemon's request_timeout, passed to it as BBCS_REQUEST_TIMEOUT.
    public var requestTimeout = 15
    /// Seconds a client waits for a reply before it counts the write as unanswered.
    public var replyTimeout = 120

    public init() {}

    /// The lengths CI runs: a few seconds of load, a 3 s outage, a 3 s request deadline.
    public static var short: FaultSettings {
        var s = FaultSettings()
        s.seconds = 6
        s.outage = 3
        s.requestTimeout = 3
        return s
    }

    /// How long held-lock holds its lock and frozen-primary freezes: past the reply bound, so
    /// a daemon without deadlines is caught.
    var faultHold: Int { max(outage, requestTimeout + 6) }
    /// The longest any reply may take where replies are bounded: the deadline and three seconds.
    var replyBound: Double { Double(requestTimeout) + 3 }
}

/// What applying a fault did: whether it really happened, when it ended, and what showed it.
struct AppliedFault {
    var applied: Bool
    var evidence: String
    /// Seconds (on the load's clock) at which the fault began and ended.
    var began: Double
    var ended: Double
    /// Decides `applied` and `evidence` from every write once the load has stopped, for faults
    /// whose effect shows only in replies that came after the fault ended.
    var confirm: (([WriteRecord]) -> (applied: Bool, evidence: String))?

    init(applied: Bool, evidence: String, began: Double, ended: Double,
         confirm: (([WriteRecord]) -> (applied: Bool, evidence: String))? = nil) {
        self.applied = applied; self.evidence = evidence; self.began = began; self.ended = ended; self.confirm = confirm
    }
}

/// Runs scenarios on one rig.
public struct FaultRunner {
    let rig: FaultRig
    let settings: FaultSettings
    let say: (String) -> Void

    public init(rig: FaultRig, settings: FaultSettings, say: @escaping (String) -> Void) {
        self.rig = rig
        self.settings = settings
        self.say = say
    }

    /// One scenario: a fresh database and daemon, the load, the fault, the load again, then every reply checked.
    public func run(_ scenario: FaultScenario) throws -> ScenarioResult {
        // Whatever the last scenario left, this one starts on a running cluster.
        try rig.startCluster()
        let database = try rig.freshDatabase(scenario.rawValue)
        let daemon = try FaultDaemon(rig: rig, database: database, requestTimeout: settings.requestTimeout,
                                     connections: settings.writers + settings.readers + 16)
        defer { daemon.stop() }
        let slots = try daemon.submitSlots(settings.writers)
        let prefix = "fault \(scenario.rawValue) \(UInt32.random(in: 0...UInt32.max))"
        let load = FaultLoad(socket: daemon.socket, prefix: prefix, replyTimeout: settings.replyTimeout)
        say("\(scenario.rawValue): \(settings.writers) writers and \(settings.readers) readers on \(database)")
        load.start(slots: slots, readers: settings.readers)
        pause(Double(settings.seconds) / 3)
        var fault: AppliedFault
        do {
            fault = try apply(scenario, daemon: daemon, database: database, load: load)
        } catch {
            _ = load.finish()
            throw error
        }
        say("\(scenario.rawValue): \(fault.evidence)")
        pause(Double(settings.seconds) * 2 / 3)
        let (writes, reads) = load.finish()
        if let confirm = fault.confirm { (fault.applied, fault.evidence) = confirm(writes) }
        // The check reads the database itself, never the daemon's answer.
        let db = try PGConnection(conninfo: daemon.conninfo)
        let stored = try db.rows(StoredRevision.self, "SELECT note, revision FROM figures WHERE note LIKE \(prefix + " w%")")
        let result = ScenarioResult(scenario: scenario, settings: settings, writes: writes, reads: reads,
                                    verdict: Verdict(records: writes, stored: stored), fault: fault)
        if !result.passed && !daemon.log.isEmpty { say("\(scenario.rawValue): the daemon's log is \(daemon.logPath); its last lines:\n" + tail(daemon.log, 15)) }
        return result
    }

    private func apply(_ scenario: FaultScenario, daemon: FaultDaemon, database: String, load: FaultLoad) throws -> AppliedFault {
        let began = load.now
        switch scenario {
        case .killDaemon:
            let status = daemon.process.stop(SIGKILL)
            try daemon.restart()
            return AppliedFault(applied: status == 128 + SIGKILL, evidence: "bbcsd killed (exit status \(status)) and started again",
                                began: began, ended: load.now)

        case .killPostgres:
            let postmaster = try rig.cluster.postmasterPID()
            // Stopped first, the postmaster forks no backend between the listing and the kill;
            // a backend left alive would keep the shared memory and PostgreSQL from starting.
            kill(postmaster, SIGSTOP)
            let processes = rig.cluster.serverChildren(of: postmaster) + [postmaster]
            let killed = processes.filter { kill($0, SIGKILL) == 0 }.count
            let gone = processes.allSatisfy { waitUntilGone($0, within: .seconds(30)) }
            try rig.startCluster()
            let again = try rig.cluster.postmasterPID()
            return AppliedFault(applied: gone && killed >= 2 && again != postmaster,
                                evidence: "killed the postmaster \(postmaster) and \(killed - 1) of its processes; PostgreSQL started again as \(again)",
                                began: began, ended: load.now)

        case .stopPostgres:
            try rig.stopCluster()
            let stopped = load.now
            pause(Double(settings.outage))
            try rig.startCluster()
            let ended = load.now
            let refused = load.writesSoFar.filter { $0.sentAt >= stopped && $0.sentAt < ended && !isOK($0.reply) }.count
            return AppliedFault(applied: refused > 0, evidence: "PostgreSQL stopped for \(settings.outage) s; \(refused) writes sent meanwhile were not stored",
                                began: began, ended: ended)

        case .terminateBackends:
            let admin = try PGConnection(conninfo: rig.cluster.conninfo(database: "postgres"))
            var terminated = 0, rounds = 0
            let until = ContinuousClock.now + .seconds(settings.outage)
            while ContinuousClock.now < until {
                terminated += try admin.one(Terminated.self, """
                    SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS count FROM pg_stat_activity
                    WHERE datname = \(database) AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                    """).count
                rounds += 1
                pause(0.5)
            }
            return AppliedFault(applied: terminated > 0, evidence: "\(terminated) backends terminated in \(rounds) rounds",
                                began: began, ended: load.now)

        case .heldLock:
            let locker = try PGConnection(conninfo: daemon.conninfo)
            try locker.execute("BEGIN")
            try locker.execute("LOCK TABLE figures IN ACCESS EXCLUSIVE MODE")
            let locked = load.now
            pause(Double(settings.faultHold))
            try locker.execute("ROLLBACK")
            let released = load.now
            let hold = settings.faultHold
            return AppliedFault(applied: true, evidence: "figures locked for \(hold) s", began: began, ended: released) { writes in
                // Writes under way while the lock was held that it held up to its end, or that were refused.
                let held = writes.filter {
                    $0.sentAt < released && $0.sentAt + $0.elapsed > locked && (!isOK($0.reply) || $0.sentAt + $0.elapsed >= released - 0.5)
                }.count
                return (held > 0, "figures locked for \(hold) s; \(held) writes under way were held up or refused")
            }

        case .frozenPrimary:
            let postmaster = try rig.cluster.postmasterPID()
            let processes = [postmaster] + rig.cluster.serverChildren(of: postmaster)
            let stopped = processes.filter { kill($0, SIGSTOP) == 0 }
            pause(Double(settings.faultHold))
            for pid in stopped.reversed() { kill(pid, SIGCONT) }
            return AppliedFault(applied: stopped.count >= 2, evidence: "\(stopped.count) PostgreSQL processes stopped for \(settings.faultHold) s, then continued",
                                began: began, ended: load.now)
        }
    }
}

private struct Terminated: Decodable { let count: Int }

func isOK(_ reply: Reply) -> Bool {
    if case .ok = reply { return true }
    return false
}

func pause(_ seconds: Double) {
    guard seconds > 0 else { return }
    usleep(UInt32(min(seconds, 4000) * 1_000_000))
}

/// True once `pid` has exited (gone, or a zombie no one reaps), within `limit`.
func waitUntilGone(_ pid: pid_t, within limit: Duration) -> Bool {
    let deadline = ContinuousClock.now + limit
    while true {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        if stat[stat.index(after: close)...].split(separator: " ").first == "Z" { return true }
        if ContinuousClock.now >= deadline { return false }
        usleep(20_000)
    }
}

private func tail(_ text: String, _ lines: Int) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
}
