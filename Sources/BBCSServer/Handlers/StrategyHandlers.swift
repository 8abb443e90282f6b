import BBCSProtocol

extension MethodTable {
    mutating func registerStrategyHandlers(_ stores: Stores) {
        register(StrategyListRequest.self) { _, _ in .init(strategies: stores.memory.strategies) }
    }
}
