import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerRoundHandlers(_ stores: Stores) {
        let rounds = stores.rounds, memory = stores.memory
        register(RoundOpenRequest.self) { r, context in
            let plan = try stores.plan(r.plan).reported
            return try await stores.caughtUp {
                try await rounds.open(by: context.actor) { cycle, principal in
                    try RoundUseCases.open(principal, plan: plan, cycle: cycle, period: r.period, deadline: r.deadline, meeting: r.meeting,
                                           at: context.actor.changeTime)
                }
            }
        }
        register(RoundListRequest.self) { r, _ in
            let plan = try stores.plan(r.plan)
            return .init(rounds: memory.cycle.rounds.filter { $0.plan == plan.code })
        }
        register(RoundShowRequest.self) { r, _ in
            let plan = try stores.plan(r.plan).reported
            return RoundProgress(round: try stores.round(of: plan, period: r.period, memory.cycle), planID: plan.id,
                                 indicators: memory.indicators)
        }
        register(RoundCloseRequest.self) { r, context in
            let plan = try stores.plan(r.plan).reported, indicators = memory.indicators
            return try await stores.caughtUp {
                try await rounds.close(by: context.actor) { cycle, principal in
                    let progress = RoundProgress(round: try stores.round(of: plan, period: r.period, cycle), planID: plan.id,
                                                 indicators: indicators)
                    return try RoundUseCases.close(principal, progress: progress, force: r.force ?? false, reason: r.reason,
                                                   at: context.actor.changeTime)
                }
            }
        }
    }
}

extension Stores {
    /// The round of `plan` for `period`; without a period, the open round of the newest period.
    func round(of plan: ReportedPlan, period: Period?, _ cycle: CycleState) throws -> ReportingRound {
        if let period {
            guard let round = cycle.round(plan: plan.code, period: period) else {
                throw StoreError.notFound(kind: "reporting round for", key: period.description)
            }
            return round
        }
        guard let round = cycle.open(plan: plan.code).first else {
            throw StoreError.notFound(kind: "open reporting round of", key: plan.code)
        }
        return round
    }
}
