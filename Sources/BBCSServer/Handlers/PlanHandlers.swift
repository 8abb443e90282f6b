import BBCSCore
import BBCSPostgres
import BBCSProtocol
import Foundation

extension MethodTable {
    mutating func registerPlanHandlers(_ stores: Stores) {
        register(PlanShowRequest.self) { request, _ in
            if let overview = stores.memory.overview(code: request.plan) { return overview }
            return try await stores.reader.overview(code: request.plan)
        }
        register(PlanImportRequest.self) { request, context in
            let document = try PlanDocument.load(from: Data(request.content.utf8))
            return try await stores.caughtUp {
                try await PlanImporter.importPlan(document, into: stores.pool, by: context.actor, dryRun: request.dryRun ?? false)
            }
        }
    }
}
