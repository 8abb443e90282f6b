import BBCSProtocol

extension MethodTable {
    mutating func registerStrategyHandlers(_ stores: Stores) {
        register(StrategyListRequest.self) { r, _ in .init(strategies: try stores.listedPlan(r.plan)?.strategies ?? []) }
    }
}
