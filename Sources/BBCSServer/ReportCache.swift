import BBCSCore
import BBCSProtocol
import Foundation
import Logging

/// The report's reply, built from memory and encoded once per state of it.
///
/// A report of the 100x plan is megabytes of JSON; building and encoding it is most of the
/// cost of the call. Each reply is kept with the memory's seq it was built from: any change
/// applied to memory, through any daemon, makes the next request build afresh. Requests
/// that find the same build under way wait for it instead of building too.
actor ReportCache {
    struct Key: Hashable {
        let plan: String
        let period: Period
        let objective: String?
        let today: CalendarDate
        let graceDays: Int
    }

    private let memory: PlanMemory
    /// The daemon's (swift-log's bootstrapped handler).
    private let logger = Logger(label: "bbcsd")
    /// Replies built at `seq`; those of older seqs can never be served again.
    private var seq: Int64?
    private var replies: [Key: Data] = [:]
    private var building: [Key: (seq: Int64, task: Task<Data, any Error>)] = [:]
    /// More distinct reports than this at one seq: the oldest go.
    private let limit = 8
    private var order: [Key] = []

    init(memory: PlanMemory) { self.memory = memory }

    /// The `result` of a `report.build` reply, as JSON.
    func result(plan: String?, defaultPlan: String?, period: Period, objective: String?, today: CalendarDate, graceDays: Int) async throws -> Data {
        let inputs = try memory.reportInputs(plan: plan, default: defaultPlan)
        let key = Key(plan: inputs.plan.code, period: period, objective: objective, today: today, graceDays: graceDays)
        if inputs.seq == seq, let reply = replies[key] {
            logger.debug("report kept", metadata: ["period": "\(period)", "bytes": "\(reply.count)"])
            return reply
        }
        if let running = building[key], running.seq == inputs.seq { return try await running.task.value }
        let logger = self.logger
        // Detached: the encoding is long work, and other callers must not wait on the actor for it.
        let task = Task.detached {
            let started = ContinuousClock.now
            let report = try inputs.report(period: period, objective: objective, today: today, graceDays: graceDays)
            let json = try WireCoding.encoder().encode(report)
            logger.debug("report built", metadata: ["period": "\(period)", "bytes": "\(json.count)",
                                                    "elapsed": "\(ContinuousClock.now - started)"])
            return json
        }
        building[key] = (inputs.seq, task)
        defer { if building[key]?.seq == inputs.seq { building[key] = nil } }
        let json = try await task.value
        keep(json, for: key, seq: inputs.seq)
        return json
    }

    private func keep(_ reply: Data, for key: Key, seq built: Int64) {
        // A build that finishes after a newer one is not kept over it.
        if let seq, built < seq { return }
        if built != seq {
            seq = built
            replies.removeAll()
            order.removeAll()
        }
        if replies.updateValue(reply, forKey: key) == nil { order.append(key) }
        while order.count > limit { replies[order.removeFirst()] = nil }
    }
}
