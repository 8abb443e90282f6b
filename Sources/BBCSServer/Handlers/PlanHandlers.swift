import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation

extension MethodTable {
    mutating func registerPlanHandlers(_ stores: Stores) {
        register(PlanShowRequest.self) { request, _ in try stores.plan(request.plan).overview }
        register(PlanHistoryRequest.self) { request, _ in
            let plan = try stores.plan(request.plan)
            return .init(plan: plan.code, revisions: plan.history)
        }
        register(PlanImportRequest.self) { request, context in
            let document = try PlanDocument.load(from: Data(request.content.utf8))
            return try await stores.caughtUp {
                try await PlanImporter.importPlan(document, into: stores.pool, by: context.actor, dryRun: request.dryRun ?? false,
                                                 file: request.content, source: request.source)
            }
        }
    }
}
