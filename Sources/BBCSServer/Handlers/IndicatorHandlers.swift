import BBCSCore
import BBCSProtocol

extension MethodTable {
    mutating func registerIndicatorHandlers(_ stores: Stores) {
        register(IndicatorListRequest.self) { request, _ in
            .init(indicators: try await stores.reader.indicators(IndicatorFilter(
                objective: request.objective, category: request.category, serviceArea: request.serviceArea,
                ownerPost: request.ownerPost)))
        }
        register(IndicatorShowRequest.self) { request, _ in try await stores.reader.indicator(code: request.code) }
    }
}
