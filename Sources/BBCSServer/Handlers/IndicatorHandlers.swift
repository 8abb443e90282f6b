import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerIndicatorHandlers(_ stores: Stores) {
        register(IndicatorListRequest.self) { request, _ in
            guard let plan = try stores.listedPlan(request.plan) else { return .init(indicators: []) }
            return .init(indicators: try stores.memory.indicatorList(IndicatorFilter(
                objective: request.objective, category: request.category, serviceArea: request.serviceArea,
                ownerPost: request.ownerPost), plan: plan, all: request.all ?? false))
        }
        register(IndicatorShowRequest.self) { request, _ in try stores.memory.indicatorDetail(request.code) }
    }
}
