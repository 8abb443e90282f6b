import BBCSProtocol

extension MethodTable {
    mutating func registerRiskHandlers(_ stores: Stores) {
        register(RiskListRequest.self) { _, _ in stores.memory.risks }
    }
}
