import BBCSProtocol

extension MethodTable {
    mutating func registerObjectiveHandlers(_ stores: Stores) {
        register(ObjectiveListRequest.self) { _, _ in .init(objectives: stores.memory.objectives) }
    }
}
