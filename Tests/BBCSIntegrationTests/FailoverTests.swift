import BBCSClient
import BBCSCore
import BBCSDevCluster
import BBCSPostgres
import BBCSProtocol
import BBCSTestSupport
import Foundation
import Synchronization
import Testing

/// A daemon whose `database` lists a primary and its synchronous standby: the primary is
/// killed under twelve writers, the standby promoted, and the old primary started again as a
/// primary (split brain). Writes resume on the new primary, every acknowledged one is there,
/// none goes to the old primary once it is back, and with the new primary gone the old one,
/// on an older timeline, is refused rather than written to.
///
/// Replication is synchronous (`synchronous_standby_names = '*'`), so a write acknowledged
/// before the kill is on the standby too and can be checked as not lost; with asynchronous
/// replication the last acknowledged writes before a kill may be lost, which is PostgreSQL's
/// choice of durability, not the daemon's.
@Suite("failover", .serialized)
struct FailoverTests {
    /// The hosts of both forms of a connection string, as libpq reads them: one port for
    /// every host, or one each; a string naming one host (or none) is no list.
    @Test func theHostListIsReadFromKeywordsAndURIs() {
        #expect(PGHosts(conninfo: "host=/run/a,/run/b port=5432,5433 dbname=bbcs").endpoints.map(\.description) == ["/run/a:5432", "/run/b:5433"])
        #expect(PGHosts(conninfo: "host=db1,db2 port=6000 dbname=bbcs").endpoints.map(\.description) == ["db1:6000", "db2:6000"])
        #expect(PGHosts(conninfo: "postgresql://db1:5433,db2/bbcs?connect_timeout=5").endpoints.map(\.description) == ["db1:5433", "db2"])
        #expect(PGHosts(conninfo: "hostaddr=10.0.0.1,10.0.0.2 dbname=bbcs").endpoints.map(\.description) == ["10.0.0.1", "10.0.0.2"])
        #expect(PGHosts(conninfo: "host=/run/a,/run/b dbname=bbcs").isMultiHost)
        #expect(!PGHosts(conninfo: "host=/run/a dbname=bbcs").isMultiHost)
        #expect(!PGHosts(conninfo: "dbname=bbcs").isMultiHost)
        #expect(!PGHosts(conninfo: "no such keyword=1").isMultiHost)
    }

    @Test func writesFollowThePromotedStandbyAndNeverReturnToTheOldPrimary() throws {
        let pair = try ReplicatedPostgres(prefix: "bbcs-test-failover")
        defer { pair.remove() }
        let daemon = try TestDaemon(database: pair.conninfo)
        let slots = shippedPlan.indicators.filter { $0.frequency == .quarterly }.prefix(4).flatMap { indicator in
            (1...3).map { (code: indicator.code, period: Period(startYear: 2025, quarter: $0)) }
        }
        let setup = try daemon.client()
        for slot in slots { _ = try setup.call(FigureSubmitRequest(code: slot.code, period: slot.period, value: 1, note: "failover")) }

        let run = try FailoverWriters(socketPath: daemon.socketPath, slots: slots)
        usleep(3_000_000)
        run.enter(.outage)
        try blocking { try await pair.primary.kill() }
        usleep(1_000_000)
        try blocking { try await pair.standby.promote() }
        run.enter(.promoted)
        let promotedAt = ContinuousClock.now
        usleep(3_000_000)
        // Its configuration still waits for a synchronous standby: this run does not, so a
        // write sent to it would be stored at once and show below.
        try blocking { try await pair.primary.start(settings: ["synchronous_standby_names": ""]) }
        #expect(try !pair.primary.isInRecovery())
        let oldPrimaryRows = try reasons(on: pair.primary)
        run.enter(.splitBrain)
        // New connections must open all the same: the daemon's backends on the new primary
        // are terminated every half second, and each reconnects to it, not to the old one.
        let terminator = BackendTerminator(conninfo: pair.standby.conninfo)
        usleep(4_000_000)
        let terminated = try terminator.stop()
        let replies = try run.stop()

        let onNew = try reasons(on: pair.standby), onOld = try reasons(on: pair.primary)
        let acknowledged = replies.filter { $0.code == nil }
        let lost = acknowledged.filter { onNew[$0.reason] == nil }
        let doubled = onNew.filter { $0.value > 1 }
        let refusedYetStored = replies.filter { $0.code != nil && onNew[$0.reason] != nil }
        let firstAfterPromotion = acknowledged.filter { $0.sentAt >= promotedAt }.map(\.answeredAt).min()
        for phase in FailoverWriters.Phase.allCases {
            let sent = replies.filter { $0.phase == phase }
            let codes = Dictionary(grouping: sent.compactMap(\.code?.rawValue), by: { $0 }).mapValues(\.count)
            print("failover: \(phase): \(sent.count) writes sent, \(sent.filter { $0.code == nil }.count) acknowledged, errors \(codes)")
        }
        print("failover: rows on the new primary \(onNew.count), on the old one \(oldPrimaryRows.count) when it came back and "
              + "\(onOld.count) at the end; acknowledged \(acknowledged.count), lost \(lost.count), doubled \(doubled.count), "
              + "refused yet stored \(refusedYetStored.count); first write acknowledged "
              + "\(firstAfterPromotion.map { "\($0 - promotedAt)" } ?? "never") after the promotion; "
              + "\(terminated) backends terminated on the new primary while the old one was back")
        #expect(terminated > 0)
        #expect(lost.isEmpty, "acknowledged but not on the new primary: \(lost.prefix(5))")
        #expect(doubled.isEmpty, "stored more than once: \(doubled.prefix(5))")
        #expect(firstAfterPromotion != nil, "no write was acknowledged after the promotion")
        #expect(acknowledged.contains { $0.phase == .splitBrain }, "no write was acknowledged once the old primary was back")
        #expect(onOld == oldPrimaryRows, "the old primary took writes after it came back")
        #expect(acknowledged.filter { $0.phase == .splitBrain && onOld[$0.reason] != nil }.isEmpty)

        // While the new primary answers, the daemon never even tries the old one.
        let oldPrimaryTried = daemon.process.log.contains("database host refused")
        #expect(!oldPrimaryTried)
        let primaryChangeLogged = daemon.process.log.contains("database primary is now another host")
        #expect(primaryChangeLogged)

        // The new primary gone: the old one answers as a primary, but on timeline 1 behind the
        // promoted standby's 2, so the daemon refuses it rather than write a forked history.
        let slot = slots[0]
        let history = try setup.call(FigureHistoryRequest(code: slot.code, period: slot.period))
        try blocking { try await pair.standby.stop() }
        let refused = setup.error(FigureCorrectRequest(code: slot.code, period: slot.period, value: 5, reason: "failover after",
                                                      revision: history.revisions.last?.revision ?? 1))
        print("failover: with only the old primary up, a write was answered \(refused.map { "\($0.code): \($0.message)" } ?? "ok")")
        #expect(refused?.code == .unavailable)
        #expect(try reasons(on: pair.primary) == onOld)
        let oldPrimaryRefused = daemon.process.log.contains("database host refused")
        #expect(oldPrimaryRefused)
    }

    /// Both hosts primaries (the standby promoted while the old primary runs), then the old one
    /// made read-only: the write its pooled connection refuses (SQLSTATE 25006) wrote nothing,
    /// so it runs again on a fresh connection, which opens on the other host; the pool keeps no
    /// connection to the read-only host.
    @Test func aWriteRefusedAsReadOnlyRunsAgainOnThePrimary() throws {
        let pair = try ReplicatedPostgres(prefix: "bbcs-test-readonly", synchronous: false)
        defer { pair.remove() }
        let daemon = try TestDaemon(database: pair.conninfo)
        let client = try daemon.client()
        let period = Period(startYear: 2025, quarter: 1)
        _ = try client.call(FigureSubmitRequest(code: "ComS_011", period: period, value: 100, note: "failover"))
        try blocking { try await pair.standby.promote() }
        let old = try PGConnection(conninfo: pair.primary.conninfo)
        try old.execute("ALTER SYSTEM SET default_transaction_read_only = on")
        try old.execute("SELECT pg_reload_conf()")
        // The reload reaches each backend when it next waits for a command.
        usleep(500_000)
        let started = ContinuousClock.now
        let result = try client.call(FigureCorrectRequest(code: "ComS_011", period: period, value: 101, reason: "failover moved",
                                                          revision: 1))
        print("read-only host: the correction was answered in \(ContinuousClock.now - started), revision \(result.status.figure?.revision ?? 0)")
        #expect(try reasons(on: pair.standby) == ["failover moved": 1])
        #expect(try reasons(on: pair.primary).isEmpty)
        // A connection busy elsewhere (the change stream reads every second) when the write was
        // refused comes back to the pool later: the next checkout closes it.
        func pooled() throws -> Int {
            try old.query("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = 'bbcs' AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND query NOT LIKE 'LISTEN %'
                """).int(0, 0)
        }
        let refusedAt = ContinuousClock.now
        var left = try pooled()
        while left > 0 && ContinuousClock.now - refusedAt < .seconds(10) {
            usleep(100_000)
            left = try pooled()
        }
        print("read-only host: \(left) pooled connections left on it \(ContinuousClock.now - refusedAt) after the refused write")
        #expect(left == 0)
    }

    /// One host that turns read-only (as a standby is): a write is answered `unavailable`,
    /// saying nothing was changed, never `internal`, and nothing is stored.
    @Test func aWriteToAReadOnlyDatabaseIsAnsweredUnavailable() throws {
        let daemon = try TestDaemon()
        let client = try daemon.client()
        let period = Period(startYear: 2025, quarter: 2)
        _ = try client.call(FigureSubmitRequest(code: "ComS_011", period: period, value: 100, note: "failover"))
        let db = try PGConnection(conninfo: daemon.database)
        try db.execute("ALTER DATABASE \(identifier: try db.query("SELECT current_database()").text(0, 0)) SET default_transaction_read_only = on")
        // Sessions read the setting when they start: end the daemon's, so its next ones are read-only.
        try db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        let refused = client.error(FigureCorrectRequest(code: "ComS_011", period: period, value: 101, reason: "failover read-only", revision: 1))
        print("read-only database: a write was answered \(refused.map { "\($0.code): \($0.message)" } ?? "ok")")
        #expect(refused?.code == .unavailable)
        #expect(refused?.message.contains("nothing was changed") == true)
        #expect(try db.query("SELECT count(*) FROM figures WHERE reason = 'failover read-only'").int(0, 0) == 0)
    }

    /// The bbcs database's figure corrections written by this test, by reason, with how many
    /// rows each has.
    private func reasons(on cluster: PostgresCluster) throws -> [String: Int] {
        let db = try PGConnection(conninfo: cluster.conninfo)
        let result = try db.query("SELECT reason, count(*) FROM figures WHERE reason LIKE 'failover %' GROUP BY reason")
        return Dictionary(uniqueKeysWithValues: try result.map { (try result.text($0, 0), try result.int($0, 1)) })
    }
}

/// Writers of `figure.correct`, one per (indicator, period) slot and each on a connection of
/// its own, until stopped; every reply is kept with the phase it was sent in.
final class FailoverWriters: Sendable {
    enum Phase: String, CaseIterable, Sendable, CustomStringConvertible {
        case beforeKill = "before the kill", outage = "primary killed", promoted = "standby promoted",
             splitBrain = "old primary back as a primary"
        var description: String { rawValue }
    }

    struct Reply: Sendable {
        let reason: String
        let phase: Phase
        /// nil: acknowledged.
        let code: ErrorCode?
        let sentAt: ContinuousClock.Instant
        let answeredAt: ContinuousClock.Instant
    }

    /// What the writers read as they go.
    private final class Control: Sendable {
        let phase = Mutex(Phase.beforeKill)
        let stopped = Atomic(false)
    }

    private let control = Control()
    private let writers: [Background<[Reply]>]

    init(socketPath: String, slots: [(code: String, period: Period)]) throws {
        let control = self.control
        writers = slots.enumerated().map { index, slot in
            Background { () -> [Reply] in
                var client = try Client(socketPath: socketPath)
                var replies: [Reply] = [], revision = 1, attempt = 0
                while !control.stopped.load(ordering: .relaxed) {
                    attempt += 1
                    let reason = "failover w\(index) n\(attempt)", sent = control.phase.withLock { $0 }, sentAt = ContinuousClock.now
                    var code: ErrorCode?
                    do {
                        let result = try client.call(FigureCorrectRequest(code: slot.code, period: slot.period, value: Double(attempt % 97),
                                                                          reason: reason, revision: revision))
                        revision = result.status.figure?.revision ?? revision + 1
                    } catch ClientError.server(let error) {
                        code = error.code
                    } catch {
                        code = .internal
                        client = try Client(socketPath: socketPath)
                    }
                    replies.append(Reply(reason: reason, phase: sent, code: code, sentAt: sentAt, answeredAt: ContinuousClock.now))
                    if code != nil {
                        // Whether it was stored or another revision came first, read what is current now.
                        usleep(20_000)
                        if let current = try? client.call(FigureHistoryRequest(code: slot.code, period: slot.period)).revisions.last {
                            revision = current.revision
                        }
                    }
                }
                return replies
            }
        }
    }

    func enter(_ next: Phase) { control.phase.withLock { $0 = next } }

    /// Stops the writers and returns every reply.
    func stop() throws -> [Reply] {
        control.stopped.store(true, ordering: .relaxed)
        return try writers.flatMap { try $0.value() }
    }
}

/// Terminates the bbcs database's client backends (the daemon's) every half second until stopped.
final class BackendTerminator: Sendable {
    private final class Flag: Sendable { let stopped = Atomic(false) }
    private let flag = Flag()
    private let work: Background<Int>

    init(conninfo: String) {
        let flag = self.flag
        work = Background {
            let db = try PGConnection(conninfo: conninfo)
            var terminated = 0
            while !flag.stopped.load(ordering: .relaxed) {
                terminated += try db.query("""
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                    """).int(0, 0)
                usleep(500_000)
            }
            return terminated
        }
    }

    /// Stops it and returns how many backends it terminated.
    func stop() throws -> Int {
        flag.stopped.store(true, ordering: .relaxed)
        return try work.value()
    }
}
