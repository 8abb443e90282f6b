import BBCSCore
import BBCSProtocol
import BBCSReport
import Foundation

extension MethodTable {
    mutating func registerReportHandlers(_ stores: Stores) {
        let memory = stores.memory
        // Encoded once per state of the database: a report of a large plan is megabytes of JSON.
        register(ReportRequest.self, encoded: { r, context in
            try await stores.reportCache.result(plan: r.plan, defaultPlan: stores.defaultPlan(), period: r.period, objective: r.objective,
                                                today: context.today, graceDays: stores.figureGraceDays())
        })
        register(ReportCorporateRequest.self) { r, context in
            try CorporateReport.assemble(memory.corporateInputs().map { inputs in
                (inputs.plan.priority, try inputs.report(period: r.period, objective: nil, today: context.today, graceDays: stores.figureGraceDays()))
            }, period: r.period)
        }
        register(ReportPublishRequest.self) { r, context in
            let inputs = try memory.reportInputs(plan: r.plan, default: stores.defaultPlan()), plan = inputs.plan
            let round = try stores.round(of: plan, period: r.round, inputs.cycle)
            let report = try inputs.report(period: round.period, objective: nil, today: context.today, graceDays: stores.figureGraceDays())
            return try await stores.caughtUp {
                try await stores.published.publish(roundID: round.id, by: context.actor) { ordinal, actor in
                    let number = Publication.number(plan: plan.code, period: round.period, ordinal: ordinal)
                    let at = actor.changeTime.recordedText
                    var frozen = report
                    frozen.publication = .init(number: number, publishedBy: actor.principal.login, publishedAt: at)
                    let json = String(decoding: try WireCoding.encoder().encode(frozen), as: UTF8.self)
                    // The digests are PostgreSQL's, of the documents as stored.
                    let publication = Publication(number: number, plan: plan.code, period: round.period, meeting: round.meeting,
                                                  publishedBy: actor.principal.login, publishedAt: at, jsonSHA256: "", htmlSHA256: "",
                                                  figures: frozen.reportedFigures, riskScores: frozen.reportedRiskScores,
                                                  restatements: frozen.restatements)
                    return .init(publication: publication, json: json, html: ReportFormat.html.render(frozen))
                }
            }
        }
        register(ReportShowRequest.self) { r, _ in
            guard let publication = memory.cycle.published.first(where: { $0.number == r.number }) else {
                throw StoreError.notFound(kind: "published report", key: r.number)
            }
            let documents = try await stores.published.documents(number: publication.number)
            return .init(publication: publication, json: documents.json, html: documents.html,
                         restatements: CycleState.restatements(of: [publication], indicators: memory.indicators))
        }
        register(ReportListRequest.self) { r, _ in
            let plan = try stores.plan(r.plan)
            return .init(reports: memory.cycle.published.filter { $0.plan == plan.code })
        }
    }
}
