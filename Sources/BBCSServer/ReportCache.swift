import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation
import Logging

/// The report's reply, encoded once and kept while the database is unchanged.
///
/// A report of the 100x plan is megabytes of JSON; building and encoding it is most of a
/// second and a few hundred megabytes of memory. Each reply is kept with the snapshot of the
/// database it was built from (`pg_current_snapshot()`): while the current snapshot is the
/// same, no transaction has committed or begun writing anywhere since, so the same bytes are
/// still the answer; any write, through any daemon or by hand, makes the next request build
/// afresh. Requests that find the same build under way wait for it instead of building too.
actor ReportCache {
    struct Key: Hashable {
        let period: Period
        let objective: String?
        let today: CalendarDate
        let graceDays: Int
    }

    private let builder: ReportBuilder
    /// The daemon's (swift-log's bootstrapped handler).
    private let logger = Logger(label: "bbcsd")
    /// Replies built from `snapshot`; those of older snapshots can never be served again.
    private var snapshot: String?
    private var replies: [Key: Data] = [:]
    private var building: [Key: (snapshot: String, task: Task<Encoded, any Error>)] = [:]
    /// More distinct reports than this at one snapshot: the oldest go.
    private let limit = 8
    private var order: [Key] = []

    /// A reply's JSON and the snapshot it was built from.
    struct Encoded: Sendable {
        let json: Data
        let snapshot: String
    }

    init(builder: ReportBuilder) { self.builder = builder }

    /// The `result` of a `report.build` reply, as JSON.
    func result(period: Period, objective: String?, today: CalendarDate, graceDays: Int) async throws -> Data {
        let key = Key(period: period, objective: objective, today: today, graceDays: graceDays)
        let current = try await builder.currentSnapshot()
        if current == snapshot, let reply = replies[key] {
            logger.debug("report kept", metadata: ["period": "\(period)", "bytes": "\(reply.count)"])
            return reply
        }
        if let running = building[key], running.snapshot == current { return try await running.task.value.json }
        let builder = self.builder
        let logger = self.logger
        // Detached: the encoding is long work, and other callers must not wait on the actor for it.
        let task = Task.detached {
            let started = ContinuousClock.now
            let built = try await builder.build(period: period, objective: objective, today: today, graceDays: graceDays)
            let json = try WireCoding.encoder().encode(built.report)
            logger.debug("report built", metadata: ["period": "\(period)", "bytes": "\(json.count)",
                                                    "elapsed": "\(ContinuousClock.now - started)"])
            return Encoded(json: json, snapshot: built.snapshot)
        }
        building[key] = (current, task)
        defer { if building[key]?.snapshot == current { building[key] = nil } }
        let encoded = try await task.value
        keep(encoded.json, for: key, snapshot: encoded.snapshot)
        return encoded.json
    }

    private func keep(_ reply: Data, for key: Key, snapshot built: String) {
        if built != snapshot {
            snapshot = built
            replies.removeAll()
            order.removeAll()
        }
        if replies.updateValue(reply, forKey: key) == nil { order.append(key) }
        while order.count > limit { replies[order.removeFirst()] = nil }
    }
}
