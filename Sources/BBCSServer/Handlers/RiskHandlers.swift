import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerRiskHandlers(_ stores: Stores) {
        let memory = stores.memory
        register(RiskListRequest.self) { _, _ in memory.risks }
        register(RiskRegisterRequest.self) { _, _ in
            .init(matrix: stores.riskMatrix(), risks: try stores.riskRegister())
        }
        register(RiskReviewRequest.self) { r, context in
            let plan = try stores.reportedPlan(), matrix = stores.riskMatrix()
            let entry = try stores.risk(r.risk)
            return try await stores.caughtUp {
                try await stores.riskReviews.review(planID: plan.id, by: context.actor) { principal in
                    try RiskUseCases.review(principal, entry, likelihood: r.likelihood, impact: r.impact, note: r.note, matrix: matrix,
                                            at: context.actor.changeTime)
                }
            }
        }
        register(RiskHistoryRequest.self) { r, _ in
            let entry = try stores.risk(r.risk)
            return .init(risk: entry.id, reviews: try await stores.riskReviews.history(planID: try stores.reportedPlan().id, risk: entry.id))
        }
    }
}

extension Stores {
    /// The register of the plan imported last, with each risk's latest review.
    func riskRegister() throws -> [RiskEntry] {
        let plan = try reportedPlan()
        return RiskEntry.register(risks: memory.risks, tasks: memory.tasks, planID: plan.id, reviews: memory.cycle.reviews)
    }

    /// The risk with `id`, ignoring case.
    func risk(_ id: String) throws -> RiskEntry {
        guard let entry = try riskRegister().first(where: { $0.id.lowercased() == id.lowercased() }) else {
            throw StoreError.notFound(kind: "risk", key: id)
        }
        return entry
    }
}
