import BBCSProtocol

extension MethodTable {
    mutating func registerStrategyHandlers(_ stores: Stores) {
        register(StrategyListRequest.self) { r, _ in .init(strategies: try stores.plan(r.plan).strategies) }
    }
}
