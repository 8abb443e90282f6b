@testable import BBCSServer
import BBCSPostgres
import BBCSProtocol
import Foundation
import Testing

/// The health rules, one input at a time, and the metrics text's form.
@Suite("health and metrics")
struct HealthTests {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)
    static let idlePool = PGPool.Usage(size: 8, inUse: 1, waiters: 0, idle: 3, opened: 4, longestWait: nil, stalledFor: nil)

    static func inputs(_ change: (inout Health.Inputs) -> Void = { _ in }) -> Health.Inputs {
        var inputs = Health.Inputs(now: now, database: DatabaseProbe.Reading(reachable: true, recoveries: 0), pool: idlePool,
                                   schedulerLate: .zero, mailPending: 0, lastMailFailure: nil, eventLoopSilentFor: nil)
        change(&inputs)
        return inputs
    }

    @Test func allAnsweringIsOk() {
        let health = Health(Self.inputs())
        #expect(health.status == .ok && health.reasons.isEmpty && health.progressing)
        #expect(health.line == "ok")
        // Mail waiting while its relay takes it is no backlog; nor is a scheduler not yet started.
        #expect(Health(Self.inputs { $0.mailPending = 40; $0.schedulerLate = nil }).status == .ok)
    }

    @Test func anUnreachableDatabaseIsFailingButTheWatchdogStillPinged() {
        let health = Health(Self.inputs {
            $0.database = DatabaseProbe.Reading(reachable: false, unreachableSince: Self.now - 75, error: "connection refused", recoveries: 2)
        })
        #expect(health.status == .failing)
        #expect(health.reasons == ["database unreachable since 2026-05-28T20:25:25Z (75s): connection refused"])
        // A restart would not bring the database back.
        #expect(health.progressing)
    }

    @Test func aQueueingPoolIsDegradedAndAWedgedOneStopsProgress() {
        var pool = Self.idlePool
        pool.waiters = 5
        pool.longestWait = .milliseconds(500)
        #expect(Health(Self.inputs { $0.pool = pool }).status == .ok, "a queue shorter than a second is load, not trouble")
        pool.longestWait = .seconds(3)
        let queueing = Health(Self.inputs { $0.pool = pool })
        #expect(queueing.status == .degraded && queueing.progressing)
        #expect(queueing.reasons == ["pool exhausted for 3s: 5 waiting for the 8 connections"])
        pool.stalledFor = .seconds(42)
        let wedged = Health(Self.inputs { $0.pool = pool })
        #expect(wedged.status == .failing && !wedged.progressing)
        #expect(wedged.reasons == ["pool wedged: no database connection has come back for 42s while requests were turned away"])
    }

    @Test func aLateSchedulerIsDegradedThenStuck() {
        #expect(Health(Self.inputs { $0.schedulerLate = .seconds(59) }).status == .ok)
        let late = Health(Self.inputs { $0.schedulerLate = .seconds(90) })
        #expect(late.status == .degraded && late.progressing && late.reasons == ["scheduler late by 90s"])
        let stuck = Health(Self.inputs { $0.schedulerLate = Health.schedulerStuck + .seconds(1) })
        #expect(stuck.status == .failing && !stuck.progressing)
    }

    @Test func mailFailingWithABacklogIsDegraded() {
        let health = Health(Self.inputs { $0.mailPending = 3; $0.lastMailFailure = "exit status 75" })
        #expect(health.status == .degraded && health.progressing)
        #expect(health.line == "degraded: mail backlog: 3 reminders waiting; the last attempt failed: exit status 75")
        #expect(Health(Self.inputs { $0.mailPending = 0; $0.lastMailFailure = "exit status 75" }).status == .ok)
    }

    @Test func aSilentEventLoopStopsProgressAndFailingComesFirst() {
        let health = Health(Self.inputs { $0.eventLoopSilentFor = .seconds(4); $0.schedulerLate = .seconds(90) })
        #expect(health.status == .failing && !health.progressing)
        #expect(health.reasons == ["the event loop has not answered for 4s", "scheduler late by 90s"])
    }

    @Test func metricsTextHasHelpForEveryFamilyInCatalogueOrder() {
        let metrics = DaemonMetrics()
        metrics.requestAnswered(method: "plan.show", outcome: "ok", after: .milliseconds(3))
        metrics.requestAnswered(method: "plan.show", outcome: "not_found", after: .microseconds(80))
        metrics.connectionRefused(limit: "max_connections")
        metrics.watcherDropped(reason: "too_slow")
        var pool = Self.idlePool
        pool.opened = 6
        let readings = DaemonMetrics.Readings(pool: pool, databaseReachable: true, mailsPending: 2, schedulerLate: .zero, changeSeq: 41,
                                              changeLag: 3, watchers: 1, health: .degraded)
        let text = metrics.text(readings)
        #expect(text.contains(#"bbcs_requests_total{method="plan.show",outcome="ok"} 1"#))
        #expect(text.contains(#"bbcs_request_duration_seconds_bucket{method="plan.show",le="0.0001"} 1"#))
        #expect(text.contains(#"bbcs_request_duration_seconds_bucket{method="plan.show",le="0.005"} 2"#))
        #expect(text.contains("bbcs_pool_connections_opened_total 6\n"))
        #expect(text.contains("bbcs_change_lag 3.0\n"))
        #expect(text.contains("bbcs_health 1.0\n"))
        // The opened counter follows the pool's count, never counting a connection twice.
        #expect(metrics.text(readings).contains("bbcs_pool_connections_opened_total 6\n"))
        let names = text.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }.map { String($0.split(separator: " ")[2]) }
        #expect(names == DaemonMetrics.families.map(\.name).filter(names.contains), "catalogue order")
        #expect(Set(names) == Set(DaemonMetrics.families.map(\.name)), "every family is rendered once used")
        #expect(text.components(separatedBy: "# TYPE ").count == names.count + 1)
    }
}
