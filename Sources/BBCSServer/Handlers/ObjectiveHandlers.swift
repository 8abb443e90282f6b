import BBCSProtocol

extension MethodTable {
    mutating func registerObjectiveHandlers(_ stores: Stores) {
        register(ObjectiveListRequest.self) { r, _ in .init(objectives: try stores.listedPlan(r.plan)?.objectiveList ?? []) }
    }
}
