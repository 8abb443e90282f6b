import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerRiskHandlers(_ stores: Stores) {
        let memory = stores.memory
        register(RiskListRequest.self) { r, _ in
            try stores.listedPlan(r.plan)?.risks ?? RiskRegister(strategicRisks: [], keyStrategicRisks: [], taskRisks: [])
        }
        register(RiskRegisterRequest.self) { r, _ in
            .init(matrix: stores.riskMatrix(), risks: try stores.riskRegister(of: stores.plan(r.plan)))
        }
        register(RiskReviewRequest.self) { r, context in
            let plan = try stores.plan(r.plan), matrix = stores.riskMatrix()
            let entry = try stores.risk(r.risk, of: plan)
            return try await stores.caughtUp {
                try await stores.riskReviews.review(planID: plan.id, by: context.actor) { principal in
                    try RiskUseCases.review(principal, entry, likelihood: r.likelihood, impact: r.impact, note: r.note, matrix: matrix,
                                            at: context.actor.changeTime)
                }
            }
        }
        register(RiskHistoryRequest.self) { r, _ in
            let plan = try stores.plan(r.plan)
            let entry = try stores.risk(r.risk, of: plan)
            return .init(risk: entry.id, reviews: try await stores.riskReviews.history(planID: plan.id, risk: entry.id))
        }
    }
}

extension Stores {
    /// The register of `plan`, with each risk's latest review.
    func riskRegister(of plan: PlanOutline) -> [RiskEntry] {
        RiskEntry.register(risks: plan.risks, tasks: memory.tasks, planID: plan.id, reviews: memory.cycle.reviews(of: plan.id))
    }

    /// The risk of `plan` with `id`, ignoring case.
    func risk(_ id: String, of plan: PlanOutline) throws -> RiskEntry {
        guard let entry = riskRegister(of: plan).first(where: { $0.id.lowercased() == id.lowercased() }) else {
            throw StoreError.notFound(kind: "risk", key: id)
        }
        return entry
    }
}
